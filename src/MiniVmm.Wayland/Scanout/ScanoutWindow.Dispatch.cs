using MiniVmm.Sys;

namespace MiniVmm.Wayland;

/// <summary>The window's own dispatch thread: poll without the lock, read and dispatch with it.</summary>
public sealed partial class ScanoutWindow
{
    private void DispatchLoop()
    {
        while (true)
        {
            short events;
            lock (_lock)
            {
                if (_stopping || _state != ScanoutWindowState.Running)
                    break;
                events = _connection.HasPendingOutput ? (short)(Poll.In | Poll.Out) : Poll.In;
            }
            Poll.Wait(_connection.Handle, events, _wake, -1, out var ready, out var woken);
            if (woken != 0)
                _ = _wake.Read();
            lock (_lock)
            {
                if (_stopping)
                    break;
                PumpLocked(ready);
            }
            NotifyStateChange();
        }
        NotifyStateChange();
    }

    /// <summary>Reads and dispatches (or just flushes, for POLLOUT alone) and folds the outcome into the state.</summary>
    private void PumpLocked(short ready)
    {
        if (_state != ScanoutWindowState.Running)
            return;
        try
        {
            if ((ready & (Poll.In | Poll.Failed)) != 0)
                _connection.DispatchReady();
            else if ((ready & Poll.Out) != 0)
                _connection.Flush();
            CheckConnectionLocked();
        }
        catch (Exception e)
        {
            // A bug in an event handler must not take the VMM down with it: the window stops, the VM runs on.
            SetStateLocked(ScanoutWindowState.Failed, "internal error while handling compositor events: " + e.Message);
            _connection.Close(StateReason!);
        }
    }
}
