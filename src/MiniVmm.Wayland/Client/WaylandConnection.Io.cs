using System.Diagnostics;
using MiniVmm.Sys;
using MiniVmm.Wayland.Protocol;

namespace MiniVmm.Wayland;

/// <summary>Non-blocking send and receive, and a blocking roundtrip for setup code.</summary>
public sealed partial class WaylandConnection
{
    // Room for several maximum-size messages, so a full message always fits after compaction.
    private readonly byte[] _input = new byte[4 * WireMessage.MaxSize];
    private int _inputStart;
    private int _inputEnd;
    // Bytes at the front of Writer.Written that the trace has already printed.
    private int _traced;

    /// <summary>True while encoded requests wait for the socket to accept them (poll for POLLOUT).</summary>
    public bool HasPendingOutput => Writer.Written.Length > 0;

    /// <summary>Sends queued requests without blocking.</summary>
    public IoStatus Flush()
    {
        if (IsClosed)
            return IoStatus.Closed;
        TraceOutgoing();
        Span<int> fds = stackalloc int[UnixSocket.MaxFdsPerSend];
        while (Writer.Written.Length > 0)
        {
            var fdCount = Math.Min(Writer.FdCount, UnixSocket.MaxFdsPerSend);
            // Bytes of a message must not overtake its fds: stop before the first message whose fds stay behind.
            var limit = fdCount < Writer.FdCount ? Writer.GetFdMessageStart(fdCount) : Writer.Written.Length;
            if (limit == 0)
                limit = Writer.Written.Length;
            for (var i = 0; i < fdCount; i++)
                fds[i] = (int)Writer.GetFd(i).DangerousGetHandle();
            var sent = _socket.Send(Writer.Written[..limit], fds[..fdCount], out var errno);
            if (sent < 0)
            {
                if (Errno.IsWouldBlock(errno))
                    return IoStatus.WouldBlock;
                Close("sending to the compositor failed: " + Errno.Describe(errno));
                return IoStatus.Closed;
            }
            Writer.Consume(sent, fdCount);
            _traced = Math.Max(0, _traced - sent);
        }
        return IoStatus.Done;
    }

    /// <summary>Reads what the socket holds now into the input buffer (and its fds into the fd queue).</summary>
    public IoStatus Receive()
    {
        if (IsClosed)
            return IoStatus.Closed;
        if (_inputStart > 0)
        {
            _input.AsSpan(_inputStart, _inputEnd - _inputStart).CopyTo(_input);
            _inputEnd -= _inputStart;
            _inputStart = 0;
        }
        var received = _socket.Receive(_input.AsSpan(_inputEnd), _fds, out var errno, out var fdLoss);
        if (fdLoss != FdLoss.None)
        {
            Close("receiving fds from the compositor failed: " + fdLoss);
            return IoStatus.Closed;
        }
        if (received < 0 && Errno.IsWouldBlock(errno))
            return IoStatus.WouldBlock;
        if (received <= 0)
        {
            Close(received == 0 ? "the compositor closed the connection" : "reading from the compositor failed: " + Errno.Describe(errno));
            return IoStatus.Closed;
        }
        _inputEnd += received;
        return IoStatus.Done;
    }

    /// <summary>For an external poll/epoll loop (level-triggered): reads, dispatches and flushes until the socket is drained.</summary>
    public IoStatus DispatchReady()
    {
        IoStatus status;
        while ((status = Receive()) == IoStatus.Done)
        {
            if (!DispatchPending())
                return IoStatus.Closed;
        }
        return status == IoStatus.Closed ? status : Flush();
    }

    /// <summary>
    /// Sends wl_display.sync and dispatches events until its callback fires: afterwards the compositor has handled
    /// every earlier request. For setup code and tests; false on timeout or when the connection closes.
    /// </summary>
    public bool Roundtrip(TimeSpan timeout)
    {
        var done = new CallbackDone();
        var callback = Create(WlCallback.Info, WlCallback.EventDispatcher(done));
        WlDisplay.Sync(Writer, DisplayId, callback);
        var clock = Stopwatch.StartNew();
        while (!done.Fired)
        {
            var status = Flush();
            if (status == IoStatus.Closed)
                return false;
            var left = (int)Math.Max(0, (timeout - clock.Elapsed).TotalMilliseconds);
            if (left == 0)
                return false;
            var events = status == IoStatus.WouldBlock ? (short)(Poll.In | Poll.Out) : Poll.In;
            if (!Poll.Wait(Handle, events, null, left, out var ready, out _))
                return false;
            if ((ready & (Poll.In | Poll.Failed)) != 0 && DispatchReady() == IoStatus.Closed)
                return false;
        }
        return true;
    }

    /// <summary>Dispatches every complete message in the input buffer; false once the connection is closed.</summary>
    public bool DispatchPending()
    {
        while (!IsClosed)
        {
            var data = _input.AsSpan(_inputStart, _inputEnd - _inputStart);
            if (!WireMessage.TryParse(data, out var message, out var error))
            {
                if (error != WireError.None)
                    Close("the compositor sent a malformed message header: " + error);
                break;
            }
            _inputStart += message.Size;
            Dispatch(message);
        }
        return !IsClosed;
    }

    private void TraceOutgoing()
    {
        if (Trace is null)
        {
            _traced = Writer.Written.Length;
            return;
        }
        var pending = Writer.Written[_traced..];
        while (WireMessage.TryParse(pending, out var message, out _))
        {
            var iface = GetInterface(message.ObjectId);
            Trace.WriteLine(" -> " + WireTrace.Format(iface, message.ObjectId, MessageDirection.Request, message.Opcode, message.Body));
            pending = pending[message.Size..];
        }
        _traced = Writer.Written.Length - pending.Length;
    }

    private sealed class CallbackDone : WlCallback.IEventHandler
    {
        public bool Fired { get; private set; }

        public void Done(uint self, uint callbackData) => Fired = true;
    }
}
