using System.Runtime.InteropServices;

namespace MiniVmm.Gpu.CrossDomain;

/// <summary>One non-blocking write of <paramref name="data"/>, with <paramref name="fds"/> as SCM_RIGHTS when not empty.</summary>
internal delegate int ChunkWriter(ReadOnlySpan<byte> data, ReadOnlySpan<int> fds, out int errno);

/// <summary>How a flush ended.</summary>
internal enum FlushResult : byte
{
    /// <summary>Everything went out.</summary>
    Drained,
    /// <summary>The fd is full (EAGAIN); the rest waits for it to become writable.</summary>
    Full,
    /// <summary>The fd failed (the reader went away): the queue was dropped, its fds closed.</summary>
    Failed,
}

/// <summary>
/// Bytes the compositor (socket) or a host reader (pipe) has not taken yet, in order, each message with the fds
/// that must ride on its first byte. Messages go out one write at a time, never merged, so an fd is attached to
/// exactly the chunk holding its message's first byte. Owns the queued fds until they are sent (the kernel then
/// holds its own references) or the queue is dropped. Not thread-safe: the channel's owner serialises it.
/// </summary>
internal sealed class OutgoingQueue : IDisposable
{
    private readonly Queue<(byte[] Data, List<SafeHandle>? Fds)> _messages = new();
    private int _headSent;

    /// <summary>Bytes queued and not yet written.</summary>
    public long Bytes { get; private set; }

    public bool IsEmpty => _messages.Count == 0;

    /// <summary>What one queued message costs the heap beyond its bytes: the array's header and the queue slot.</summary>
    public const int PerMessageOverhead = 64;

    /// <summary>What the queue holds on the heap: its bytes plus <see cref="PerMessageOverhead"/> a message (the ledger's charge).</summary>
    public long HeapBytes => Bytes + (long)_messages.Count * PerMessageOverhead;

    /// <summary>Whether the newest message has not had a byte written (so it can still be taken back whole).</summary>
    public bool TailUntouched => _messages.Count > 1 || _headSent == 0;

    /// <summary>Queues a copy of <paramref name="data"/>; takes ownership of <paramref name="fds"/> (which the caller clears).</summary>
    public void Enqueue(ReadOnlySpan<byte> data, List<SafeHandle>? fds)
    {
        _messages.Enqueue((data.ToArray(), fds is { Count: > 0 } ? [.. fds] : null));
        Bytes += data.Length;
    }

    /// <summary>
    /// Sends <paramref name="data"/> behind what waits: with nothing queued it is written straight from the caller's
    /// bytes (the common case costs no copy) and only a remainder is queued. Takes ownership of
    /// <paramref name="fds"/> as <see cref="Enqueue"/> does.
    /// </summary>
    public FlushResult WriteOrEnqueue(ReadOnlySpan<byte> data, List<SafeHandle>? fds, ChunkWriter write, out int errno)
    {
        if (!IsEmpty)
        {
            Enqueue(data, fds);
            return Flush(write, out errno);
        }
        Span<int> raw = stackalloc int[CrossDomainConstants.MaxIdentifiers];
        var count = write(data, fds is { } handles ? raw[..Fill(raw, handles)] : default, out errno);
        if (count < 0 && errno == Errno.EAGAIN)
        {
            Enqueue(data, fds);
            return FlushResult.Full;
        }
        CloseAll(fds); // sent with the first byte, or the reader is gone
        if (count <= 0)
            return FlushResult.Failed;
        if (count < data.Length)
        {
            _messages.Enqueue((data.ToArray(), null));
            _headSent = count;
            Bytes += data.Length - count;
            return FlushResult.Full;
        }
        return FlushResult.Drained;
    }

    /// <summary>Drops the newest message (it must be untouched), closing its fds: a refused send changes nothing.</summary>
    public void RemoveTail()
    {
        var kept = _messages.Count - 1;
        for (var i = 0; i < kept; i++)
            _messages.Enqueue(_messages.Dequeue());
        var (data, fds) = _messages.Dequeue();
        Bytes -= data.Length;
        CloseAll(fds);
    }

    /// <summary>Writes until drained or full, without waiting. On failure the whole queue is dropped.</summary>
    public FlushResult Flush(ChunkWriter write, out int errno)
    {
        errno = 0;
        Span<int> raw = stackalloc int[CrossDomainConstants.MaxIdentifiers];
        while (_messages.TryPeek(out var head))
        {
            // Fds go only with the first byte of their message; queued handles are ours and open, so their numbers hold.
            var fds = _headSent == 0 && head.Fds is { } handles ? raw[..Fill(raw, handles)] : default;
            var count = write(head.Data.AsSpan(_headSent), fds, out errno);
            if (count < 0 && errno == Errno.EAGAIN)
                return FlushResult.Full;
            if (count <= 0)
            {
                Dispose();
                return FlushResult.Failed;
            }
            if (_headSent == 0)
                CloseAll(head.Fds);
            _headSent += count;
            Bytes -= count;
            if (_headSent == head.Data.Length)
            {
                _messages.Dequeue();
                _headSent = 0;
            }
        }
        return FlushResult.Drained;
    }

    public void Dispose()
    {
        // A half-sent head's list is already empty: its fds went to the kernel with its first byte.
        while (_messages.TryDequeue(out var message))
            CloseAll(message.Fds);
        _headSent = 0;
        Bytes = 0;
    }

    private static int Fill(Span<int> raw, List<SafeHandle> handles)
    {
        for (var i = 0; i < handles.Count; i++)
            raw[i] = (int)handles[i].DangerousGetHandle();
        return handles.Count;
    }

    private static void CloseAll(List<SafeHandle>? fds)
    {
        if (fds is null)
            return;
        foreach (var fd in fds)
            fd.Dispose();
        fds.Clear();
    }
}
