
namespace MiniVmm.GuestProxy.Pipes;

// Moving the bytes: READs into client write ends, client pipes out as WRITEs.
internal sealed partial class PipeRelay
{
    /// <summary>
    /// A READ from the host (receive thread): <paramref name="data"/> for READ_PIPE <paramref name="pipeId"/>, which
    /// the compositor closed when <paramref name="hangUp"/>. A READ for a pipe no longer here (dropped, or never made)
    /// is ignored.
    /// </summary>
    public void OnRead(uint pipeId, byte[] data, bool hangUp)
    {
        lock (_lock)
        {
            if (!_toClients.TryGetValue(pipeId, out var pipe))
                return;
            pipe.HostClosed |= hangUp;
            if (data.Length > 0)
            {
                pipe.Waiting.Enqueue(data);
                pipe.WaitingBytes += data.Length;
                _buffered += data.Length;
            }
            Flush(pipeId, pipe);
            if (_buffered > MaxBuffered && _toClients.ContainsKey(pipeId))
                Drop(pipeId, pipe, $"its client left {pipe.WaitingBytes} bytes unread");
        }
    }

    /// <summary>Loop thread: room in a client's pipe, or its reader gone (EPOLLERR).</summary>
    private void OnClientWritable(uint pipeId, int events)
    {
        lock (_lock)
        {
            if (!_toClients.TryGetValue(pipeId, out var pipe))
                return;
            if ((events & Poll.Error) != 0)
                Drop(pipeId, pipe, reason: null); // the client closed its read end: nothing more to deliver
            else
                Flush(pipeId, pipe);
        }
    }

    /// <summary>Writes what waits until the pipe is full; closes it once the host closed and all is out. Under the lock.</summary>
    private void Flush(uint pipeId, ToClient pipe)
    {
        while (pipe.Waiting.TryPeek(out var chunk))
        {
            var written = pipe.Fd.Write(chunk.AsSpan(pipe.WaitingOffset), out var error);
            if (written < 0)
            {
                if (error != Errno.EAGAIN)
                    Drop(pipeId, pipe, reason: null); // EPIPE: the client stopped reading, as a native compositor would see
                return; // EAGAIN: the edge-triggered watch calls back when there is room
            }
            pipe.WaitingOffset += written;
            pipe.WaitingBytes -= written;
            _buffered -= written;
            if (pipe.WaitingOffset == chunk.Length)
            {
                pipe.Waiting.Dequeue();
                pipe.WaitingOffset = 0;
            }
        }
        if (pipe.HostClosed)
            Drop(pipeId, pipe, reason: null);
    }

    /// <summary>Forgets a client write end (under the lock); a later READ for it is ignored.</summary>
    private void Drop(uint pipeId, ToClient pipe, string? reason)
    {
        if (reason is not null)
            _log($"pipe {pipeId:x}: {reason}; closing it");
        _buffered -= pipe.WaitingBytes;
        _toClients.Remove(pipeId);
        pipe.Close();
    }

    /// <summary>
    /// Loop thread: a client wrote into (or closed) the pipe for write pipe <paramref name="pipeId"/>. One chunk per
    /// call; the level-triggered watch calls again while more is there. End-of-file is the WRITE with hang_up.
    /// </summary>
    private void OnClientReadable(uint pipeId)
    {
        FromClient? pipe;
        lock (_lock)
        {
            if (!_fromClients.TryGetValue(pipeId, out pipe))
                return;
        }
        var count = pipe.Fd.Read(_chunk, out var error);
        if (count < 0 && error == Errno.EAGAIN)
            return;
        var hangUp = count <= 0; // a read error ends the pipe like end-of-file: the compositor must not wait for more
        try
        {
            _transport.Write(pipeId, _chunk.AsSpan(0, Math.Max(count, 0)), hangUp);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or TimeoutException)
        {
            // The host dropped the pipe (the compositor closed its end): the client's next write sees EPIPE.
            _log($"write pipe {pipeId}: {e.Message}; closing it");
            hangUp = true;
        }
        if (!hangUp)
            return;
        lock (_lock)
            _fromClients.Remove(pipeId);
        pipe.Close();
    }
}
