using System.Runtime.InteropServices;
using MiniVmm.Virtio;

namespace MiniVmm.Gpu.CrossDomain;

// POLL: each outstanding POLL is answered by exactly one message on the channel ring (RECEIVE, READ or the hang-up
// RECEIVE). The guest proxy reads the ring only after the POLL's fence, so a second message must not be written
// before a second POLL: hence the count, and the event-loop read watch that exists only while a POLL waits (the loop
// is level-triggered, so an idle watch on a readable socket would spin). Likewise the write watch (EPOLLOUT) exists
// only while the channel holds queued SEND or WRITE bytes; both run the same callback, which flushes, then answers.
public sealed partial class CrossDomainContext
{
    private readonly EventLoop _loop;
    private readonly Action<CrossDomainContext> _onReadable;
    private readonly List<IDisposable> _watches = [];
    private readonly List<(SafeHandle Fd, int Events)> _watched = []; // what _watches registered, in order
    private int _pendingPolls;
    private int _messagesWritten;

    /// <summary>Most POLLs that may wait at once: the largest virtqueue (each waiting POLL holds a fenced chain).</summary>
    public const int MaxPendingPolls = MiniVmm.Virtio.Queue.VirtqConstants.MaxQueueSize;

    /// <summary>POLLs not yet answered.</summary>
    public int PendingPolls => _pendingPolls;

    /// <summary>
    /// Flushes queued output, then answers outstanding POLLs from what is readable now, without blocking (the event
    /// loop calls this through the device when a watched fd becomes readable or writable). Messages written go to
    /// <see cref="TakeMessagesWritten"/>.
    /// </summary>
    public void Pump()
    {
        lock (_lock)
        {
            if (!_disposed) // the loop may fire once more after CTX_DESTROY or reset
                PumpAll();
        }
    }

    /// <summary>How many POLLs were answered since the last call: the device completes that many ring-1 fences.</summary>
    public int TakeMessagesWritten()
    {
        lock (_lock)
        {
            var count = _messagesWritten;
            _messagesWritten = 0;
            return count;
        }
    }

    private void PumpAll()
    {
        // First, so a compositor that failed while taking queued bytes is the hang-up a waiting POLL reports.
        _channel?.FlushOutgoing();
        while (_pendingPolls > 0 && TryWriteOneMessage())
        {
            _pendingPolls--;
            _messagesWritten++;
        }
        UpdateWatches();
    }

    private bool TryWriteOneMessage()
    {
        var ring = new byte[CrossDomainConstants.RingSize];
        int length;
        if (_channel is not { } channel)
            length = HangUp(ring);
        else
        {
            var data = new byte[CrossDomainConstants.MaxSendReceiveData];
            var identifiers = new List<(uint Id, uint Type, ulong Size)>();
            if (channel.TryReceive(data, out var count, identifiers, out var hungUp))
            {
                if (!hungUp)
                    TraceReceive(data.AsSpan(0, count), identifiers);
                length = hungUp ? HangUp(ring) : Receive(ring, data.AsSpan(0, count), identifiers);
            }
            else if (channel.TryReadPipe(data, out var pipeId, out count, out var pipeHangUp))
            {
                TraceLine($"READ pipe={pipeId} {count} bytes hang_up={(pipeHangUp ? 1 : 0)}");
                CrossDomainRingWriter.WriteRead(ring, pipeId, data.AsSpan(0, count), pipeHangUp);
                length = CrossDomainReadWrite.Size + count;
            }
            else
                return false;
        }
        // A ring that went away (unref) loses the message, but the POLL still counts as answered so the guest's
        // fence completes: a guest that frees its ring mid-session only hurts itself.
        if (_host.WriteRing(Id, _channelRing, ring.AsSpan(0, length)) is { } error)
            Error ??= "channel ring: " + error;
        return true;
    }

    private int Receive(byte[] ring, ReadOnlySpan<byte> data, List<(uint Id, uint Type, ulong Size)> identifiers)
    {
        if (CrossDomainRingWriter.WriteReceive(ring, data, [.. identifiers]) != CrossDomainRingError.None)
        {
            // Cannot happen with the channel's limits; if it did, the stream lost bytes, so end it honestly.
            _channel?.Dispose();
            _channel = null;
            Error ??= "a RECEIVE did not fit the ring";
            return HangUp(ring);
        }
        return CrossDomainSendReceive.Size + data.Length;
    }

    private int HangUp(byte[] ring)
    {
        TraceLine("RECEIVE hang-up (empty)");
        CrossDomainRingWriter.WriteHangUp(ring);
        // Nothing more will come: drop the socket now so its fd is not held until CTX_DESTROY.
        if (_channel is { IsHungUp: true } channel)
        {
            channel.Dispose();
            _channel = null;
            Error ??= "the compositor hung up";
        }
        return CrossDomainSendReceive.Size;
    }

    /// <summary>
    /// Read watches while a POLL waits, write watches while output is queued; one registration per fd. Pumps run per
    /// command, so the registrations are only redone when the wanted set changed (two epoll_ctl calls saved a pump).
    /// </summary>
    private void UpdateWatches()
    {
        var wanted = WantedWatches();
        if (wanted.SequenceEqual(_watched))
            return;
        Disarm();
        foreach (var (fd, events) in wanted)
            _watches.Add(_loop.Add(fd, _ => _onReadable(this), events));
        _watched.AddRange(wanted);
        if (_watches.Count > 0)
            _loop.Start();
    }

    private List<(SafeHandle Fd, int Events)> WantedWatches()
    {
        var wanted = new List<(SafeHandle Fd, int Events)>();
        if (_channel is not { } channel)
            return wanted;
        var reading = _pendingPolls > 0;
        var socketEvents = (reading ? Sys.Poll.In : 0) | (channel.QueuedSendBytes > 0 ? Sys.Poll.Out : 0);
        if (socketEvents != 0)
            wanted.Add((channel.Socket, socketEvents));
        if (reading)
        {
            foreach (var (_, pipe) in channel.ReadPipes)
                wanted.Add((pipe, Sys.Poll.In));
        }
        foreach (var pipe in channel.PipesWithQueuedWrites)
            wanted.Add((pipe, Sys.Poll.Out));
        return wanted;
    }

    private void Disarm()
    {
        foreach (var watch in _watches)
            watch.Dispose();
        _watches.Clear();
        _watched.Clear();
    }
}
