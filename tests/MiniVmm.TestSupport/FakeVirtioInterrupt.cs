using MiniVmm.Virtio;

namespace MiniVmm.TestSupport;

/// <summary>Records what a device signalled.</summary>
public sealed class FakeVirtioInterrupt : IVirtioInterrupt
{
    private readonly Lock _lock = new();
    private readonly List<int> _queueSignals = []; // guarded by _lock
    private readonly List<string> _resetReasons = []; // guarded by _lock
    private int _configChanges; // guarded by _lock

    public IReadOnlyList<int> QueueSignals
    {
        get
        {
            lock (_lock)
                return [.. _queueSignals];
        }
    }

    public IReadOnlyList<string> NeedsResetReasons
    {
        get
        {
            lock (_lock)
                return [.. _resetReasons];
        }
    }

    public int ConfigChanges
    {
        get
        {
            lock (_lock)
                return _configChanges;
        }
    }

    public void SignalQueue(int queueIndex)
    {
        lock (_lock)
            _queueSignals.Add(queueIndex);
    }

    public void SignalConfigChange()
    {
        lock (_lock)
            _configChanges++;
    }

    public void SignalNeedsReset(string reason)
    {
        lock (_lock)
            _resetReasons.Add(reason);
    }

    public void Clear()
    {
        lock (_lock)
        {
            _queueSignals.Clear();
            _resetReasons.Clear();
            _configChanges = 0;
        }
    }
}
