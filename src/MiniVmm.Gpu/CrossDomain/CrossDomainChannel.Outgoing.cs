using System.Runtime.InteropServices;
using MiniVmm.Wayland;

namespace MiniVmm.Gpu.CrossDomain;

// Guest to host output: SEND bytes (with their fds) to the socket and WRITE bytes to write pipes. What a reader does
// not take at once is queued and flushed by FlushOutgoing when the owner's event loop sees the fd writable, so a
// briefly slow compositor costs memory, not the device thread. Past OutgoingLimitBytes, or past what the ledger
// (all channels together, and the host budget) allows, a send is refused at once: the device thread never waits for
// a compositor. Only an owner without an event loop (OutgoingLimitBytes 0) still waits, bounded, as before queueing.
public sealed partial class CrossDomainChannel
{
    private readonly OutgoingQueue _outgoing = new();
    private readonly ChunkWriter _socketWriter;
    private readonly List<WritePipe> _drainingPipes = []; // hung up by the guest, closed once their queue is out

    private enum OfferResult : byte
    {
        Accepted,
        /// <summary>Waited past the bound and refused; nothing of the message went out.</summary>
        Stalled,
        /// <summary>Waited past the bound with part of the message out: the stream is unusable.</summary>
        StalledHalfSent,
        /// <summary>The reader went away.</summary>
        Failed,
    }

    /// <summary>
    /// Bytes queued per socket and per pipe before a send waits for the reader as a send without a queue would.
    /// 0 turns queueing off: an owner with no event loop to flush from must not leave bytes behind.
    /// </summary>
    public long OutgoingLimitBytes { get; set; } = DefaultOutgoingLimitBytes;

    /// <summary>Bytes waiting for the compositor socket: while non-zero the owner watches it for writability.</summary>
    public long QueuedSendBytes => _outgoing.Bytes;

    /// <summary>Write pipes (guest-hung-up ones included) holding bytes their reader has not taken: watch for writability.</summary>
    public IEnumerable<Fd> PipesWithQueuedWrites =>
        _writePipes.Values.Concat(_drainingPipes).Where(pipe => !pipe.Queue.IsEmpty).Select(pipe => pipe.Fd);

    /// <summary>
    /// WRITE: pipe data for a write pipe the compositor gave us; <paramref name="hangUp"/> closes it once what is
    /// queued has gone out (the id is forgotten at once). A pipe whose reader failed is reported here and forgotten.
    /// </summary>
    public CrossDomainChannelError Write(uint pipeId, ReadOnlySpan<byte> data, bool hangUp)
    {
        try
        {
            return WriteCore(pipeId, data, hangUp);
        }
        finally
        {
            Report();
        }
    }

    private CrossDomainChannelError WriteCore(uint pipeId, ReadOnlySpan<byte> data, bool hangUp)
    {
        if (!_writePipes.TryGetValue(pipeId, out var pipe))
            return CrossDomainChannelError.UnknownPipe;
        var result = pipe.Failed ? OfferResult.Failed : Offer(pipe.Queue, pipe.Writer, pipe.Fd.Value, data, null);
        if (result != OfferResult.Accepted || hangUp)
        {
            _writePipes.Remove(pipeId);
            if (result == OfferResult.Accepted && !pipe.Queue.IsEmpty)
                _drainingPipes.Add(pipe);
            else
                pipe.Dispose();
        }
        return result == OfferResult.Accepted ? CrossDomainChannelError.None : CrossDomainChannelError.PipeWriteFailed;
    }

    /// <summary>
    /// Writes what is queued, without waiting (the owner calls this when a watched fd is writable, and before it
    /// answers POLLs). A socket that fails is hung up, so the next POLL gets the hang-up and later SENDs fail; a
    /// pipe that fails is closed and its next WRITE fails. Queued fds of what failed are closed.
    /// </summary>
    public void FlushOutgoing()
    {
        if (!_outgoing.IsEmpty && _outgoing.Flush(_socketWriter, out _) == FlushResult.Failed)
            _hungUp = true;
        foreach (var pipe in _writePipes.Values)
        {
            if (!pipe.Queue.IsEmpty && pipe.Queue.Flush(pipe.Writer, out _) == FlushResult.Failed)
                pipe.Fail();
        }
        _drainingPipes.RemoveAll(pipe =>
        {
            if (pipe.Queue.Flush(pipe.Writer, out _) == FlushResult.Full)
                return false;
            pipe.Dispose();
            return true;
        });
        Report();
    }

    /// <summary>SEND's output: queued behind what waits; on success the queue owns <paramref name="fds"/> (cleared).</summary>
    private CrossDomainChannelError SendOrQueue(ReadOnlySpan<byte> data, List<SafeHandle> fds)
    {
        switch (Offer(_outgoing, _socketWriter, _socket.Handle.Value, data, fds))
        {
            case OfferResult.Accepted:
                return CrossDomainChannelError.None;
            case OfferResult.Stalled:
                return CrossDomainChannelError.Stalled;
            case OfferResult.StalledHalfSent:
                // Half a message on the wire cannot be taken back: the stream is now unusable, as after a hang-up.
                _hungUp = true;
                _outgoing.Dispose();
                return CrossDomainChannelError.Stalled;
            default:
                _hungUp = true;
                return CrossDomainChannelError.HungUp;
        }
    }

    /// <summary>
    /// Queues <paramref name="data"/> behind what waits and writes what the reader takes now. Past the bound, or past
    /// what the ledger allows, it is refused whole at once (the queue stays as it was). With a bound of 0 (no event loop
    /// to flush later) it waits instead, at most <see cref="SendTimeoutMs"/> per stall, until everything is out.
    /// </summary>
    private OfferResult Offer(OutgoingQueue queue, ChunkWriter write, int fd, ReadOnlySpan<byte> data, List<SafeHandle>? fds)
    {
        if (data.IsEmpty)
            return OfferResult.Accepted;
        var limit = OutgoingLimitBytes;
        if (limit == 0)
            return OfferWaiting(queue, write, fd, data, fds);
        if (!queue.IsEmpty && queue.Flush(write, out _) == FlushResult.Failed)
            return OfferResult.Failed;
        // A message may take the queue past its bound only when the queue is empty (a bound below one message).
        if ((!queue.IsEmpty && queue.Bytes + data.Length > limit) || !_ledger.HasRoomFor(data.Length + OutgoingQueue.PerMessageOverhead))
            return OfferResult.Stalled;
        var written = queue.WriteOrEnqueue(data, fds, write, out _);
        fds?.Clear();
        return written == FlushResult.Failed ? OfferResult.Failed : OfferResult.Accepted;
    }

    /// <summary>The owner without an event loop: nothing may stay queued, so a send waits (bounded) for the reader.</summary>
    private static OfferResult OfferWaiting(OutgoingQueue queue, ChunkWriter write, int fd, ReadOnlySpan<byte> data, List<SafeHandle>? fds)
    {
        var written = queue.WriteOrEnqueue(data, fds, write, out _);
        fds?.Clear();
        if (written == FlushResult.Failed)
            return OfferResult.Failed;
        while (!queue.IsEmpty)
        {
            if (!Poll.WaitWritable(fd, SendTimeoutMs))
            {
                if (!queue.TailUntouched)
                    return OfferResult.StalledHalfSent;
                queue.RemoveTail();
                return OfferResult.Stalled;
            }
            if (queue.Flush(write, out _) == FlushResult.Failed)
                return OfferResult.Failed;
        }
        return OfferResult.Accepted;
    }

    /// <summary>A write pipe from the compositor and the guest bytes its reader has not taken yet.</summary>
    private sealed class WritePipe : IDisposable
    {
        public WritePipe(Fd fd)
        {
            Fd = fd;
            Writer = (ReadOnlySpan<byte> data, ReadOnlySpan<int> _, out int errno) => fd.Write(data, out errno);
        }

        public Fd Fd { get; }
        public ChunkWriter Writer { get; }
        public OutgoingQueue Queue { get; } = new();

        /// <summary>Its reader went away while bytes were queued: the fd is closed; the next WRITE reports it.</summary>
        public bool Failed { get; private set; }

        public void Fail()
        {
            Failed = true;
            Dispose();
        }

        public void Dispose()
        {
            Queue.Dispose();
            Fd.Dispose();
        }
    }
}
