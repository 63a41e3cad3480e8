using System.Buffers;
using MiniVmm.CrossDomain;
using MiniVmm.GuestProxy.Native;
using MiniVmm.GuestProxy.Pipes;
using MiniVmm.GuestProxy.Shm;
using MiniVmm.Wayland;

namespace MiniVmm.GuestProxy;

/// <summary>
/// One Wayland client and its cross-domain context. Two threads, because each side blocks differently: one waits
/// on the client socket and turns bytes into SENDs, the other waits on POLL fences and turns RECEIVEs into bytes
/// (and compositor fds, arriving as blob ids, into fds). Either side ending ends both. Both sleep in the kernel until
/// their fd or fence is ready (poll(2), an eventfd); the <see cref="Tick"/> bound on each wait only lets a stopping
/// session notice. Pipe data moves on a third thread, the <see cref="PipeRelay"/>'s.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Run makes the pipe relay and disposes it after both relay threads end")]
internal sealed class ProxySession(int number, Fd client, ICrossDomainTransport transport, Action<string> log)
{
    private const int Tick = 100; // ms
    private static readonly TimeSpan ClientWriteTimeout = TimeSpan.FromSeconds(5);
    private readonly ClientEventStream _events = new(new ObjectInterfaces());
    // The sending thread's scratch, reused for every batch.
    private readonly ArrayBufferWriter<byte> _batch = new(CrossDomainWire.MaxSendData);
    private readonly WireWriter _replacement = new();
    private readonly List<CrossDomainIdentifier> _messageIds = [];
    private volatile bool _stopping;
    private Thread? _toClient, _toHost;
    private PipeRelay? _pipes;

    public bool Finished => _toClient is { IsAlive: false } && _toHost is { IsAlive: false };

    public void Start()
    {
        _toHost = new Thread(Run) { IsBackground = true, Name = $"proxy-{number}-send" };
        _toHost.Start();
    }

    public void Stop()
    {
        _stopping = true;
        _toHost?.Join();
    }

    private void Run()
    {
        try
        {
            transport.Connect();
            _pipes = new PipeRelay($"proxy-{number}-pipes", transport, line => log($"client {number}: {line}"));
            _toClient = new Thread(RelayToClient) { IsBackground = true, Name = $"proxy-{number}-receive" };
            _toClient.Start();
            RelayToHost();
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or TimeoutException or InvalidDataException)
        {
            log($"client {number}: {e.Message}; closing it");
        }
        _stopping = true;
        _toClient?.Join();
        _events.CloseHeldFds();
        _pipes?.Dispose();
        transport.Dispose();
        client.Dispose();
        log($"client {number}: closed");
    }

    /// <summary>
    /// Client bytes → SENDs. Bytes are framed into whole requests so <see cref="ShmTracker"/> can follow wl_shm; a
    /// batch of requests goes out with the identifiers of the fds they take (the host blob each wl_buffer gets, the
    /// client's pipes as READ_PIPE), in the order the requests take them, on the batch's first SEND (fds may reach the
    /// compositor before the bytes that use them, never after). At most one READ_PIPE per SEND. Any other fd that no
    /// tracked request claims (a socket, a device, a dma-buf) is refused: forwarding its message without the fd would
    /// desynchronise the client.
    /// </summary>
    private void RelayToHost()
    {
        var buffer = new byte[CrossDomainWire.MaxSendData];
        var pending = new List<byte>();
        var received = new List<Fd>();
        var fds = new Queue<Fd>();
        var identifiers = new List<CrossDomainIdentifier>(); // the next SEND's: blobs and pipes ride with its first page
        using var tracker = new ShmTracker(transport, _events);
        try
        {
            while (!_stopping)
            {
                if (!ProxySocket.WaitReadable(client, Tick))
                    continue;
                var read = ProxySocket.Receive(client, buffer, received, out var error);
                received.ForEach(fds.Enqueue);
                received.Clear();
                if (read == 0 || (read < 0 && error != Tmds.Linux.LibC.EAGAIN))
                    return; // hung up (or failed): the compositor side is closed with the context
                if (read < 0)
                    continue;
                pending.AddRange(buffer.AsSpan(0, read));
                if (Forward(pending, fds, identifiers, tracker) is { } refusal)
                {
                    log($"client {number}: {refusal}; closing it");
                    return;
                }
            }
        }
        finally
        {
            foreach (var fd in fds)
                fd.Dispose();
            log($"client {number}: {tracker.BytesCopied} pixel bytes copied into host buffers over {tracker.Refreshes} commits");
        }
    }

    /// <summary>
    /// Sends every complete request in <paramref name="pending"/> (or what the tracker replaced it with) and removes
    /// it; null or why to close.
    /// </summary>
    private string? Forward(List<byte> pending, Queue<Fd> fds, List<CrossDomainIdentifier> identifiers, ShmTracker tracker)
    {
        ReadOnlySpan<byte> bytes = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pending); // not changed until the end
        var offset = 0;
        var batch = _batch;
        var replacement = _replacement;
        var messageIds = _messageIds;
        batch.ResetWrittenCount();
        while (true)
        {
            if (!WireMessage.TryParse(bytes[offset..], out var message, out var wireError))
            {
                if (wireError != WireError.None)
                    return $"malformed request stream ({wireError})"; // the size field is wrong: no way to resynchronise
                break;
            }
            messageIds.Clear();
            replacement.Clear();
            var fdsTaken = _events.Interfaces.FollowRequest(message);
            var queued = fds.Count;
            if (tracker.Inspect(message, fds, messageIds, replacement, out var replaced) is { } refusal)
                return refusal;
            fdsTaken -= queued - fds.Count; // the pool fd the tracker took
            // A pipe at the head goes with the request that takes it: earlier, it could reach the compositor before a
            // host blob the proxy makes for a request in between (a request of an unknown protocol may take it). At most
            // one READ_PIPE per SEND (crosvm's rule): a batch that has one is sent first.
            if (fdsTaken is null or > 0 && ClientPipes.NextIsPipe(fds))
            {
                if (HasReadPipe(identifiers))
                {
                    SendBatch(batch.WrittenSpan, identifiers);
                    batch.ResetWrittenCount();
                }
                if (!HasReadPipe(identifiers) && ClientPipes.TakeLeading(fds, _pipes!, messageIds, 1) is { } pipeRefusal)
                    return pipeRefusal;
            }
            if (identifiers.Count + messageIds.Count > CrossDomainConstants.MaxIdentifiers)
            {
                SendBatch(batch.WrittenSpan, identifiers);
                batch.ResetWrittenCount();
            }
            identifiers.AddRange(messageIds);
            batch.Write(replaced ? replacement.Written : bytes.Slice(offset, message.Size));
            offset += message.Size;
        }
        SendBatch(batch.WrittenSpan, identifiers);
        tracker.AfterSend();
        pending.RemoveRange(0, offset);
        // A pipe may wait for its request (one READ_PIPE per SEND); any other fd no request took cannot be forwarded.
        if (pending.Count == 0 && fds.Count > 0 && !ClientPipes.NextIsPipe(fds))
            return $"sent {fds.Count} fd(s) that no request took (sockets, devices and dma-bufs cannot be forwarded)";
        return null;
    }

    private static bool HasReadPipe(List<CrossDomainIdentifier> identifiers) =>
        identifiers.Exists(id => id.Type == (uint)CrossDomainIdType.ReadPipe);

    /// <summary>One batch, a page per SEND; the identifiers go with the first page so fds precede their requests.</summary>
    private void SendBatch(ReadOnlySpan<byte> batch, List<CrossDomainIdentifier> identifiers)
    {
        if (batch.IsEmpty)
            return; // identifiers wait for bytes to ride on (a stream socket drops fds sent with none)
        var ids = identifiers.ToArray();
        identifiers.Clear();
        for (var at = 0; at < batch.Length; at += CrossDomainWire.MaxSendData)
        {
            transport.Send(batch.Slice(at, Math.Min(CrossDomainWire.MaxSendData, batch.Length - at)), ids);
            ids = [];
        }
    }

    /// <summary>
    /// POLL fences → client bytes, framed and filtered by <see cref="ClientEventStream"/>. Blob identifiers become
    /// fds in SCM_RIGHTS, in identifier order; READs (pipe data from the compositor) go to the <see cref="PipeRelay"/>.
    /// </summary>
    private void RelayToClient()
    {
        try
        {
            while (!_stopping)
            {
                var message = transport.Receive(TimeSpan.FromMilliseconds(Tick));
                if (message is null)
                    continue;
                if (message.Command == (byte)CrossDomainCmd.Read)
                {
                    _pipes!.OnRead(message.Identifiers[0].Id, message.Data, message.PipeHangUp);
                    continue;
                }
                if (message.IsHangUp)
                {
                    log($"client {number}: the compositor hung up");
                    break;
                }
                Deliver(message);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or TimeoutException or InvalidDataException)
        {
            log($"client {number}: {e.Message}; closing it");
        }
        _stopping = true;
    }

    private void Deliver(CrossDomainReceived message)
    {
        var fds = new List<Fd>();
        try
        {
            foreach (var id in message.Identifiers)
            {
                fds.Add((CrossDomainIdType)id.Type switch
                {
                    CrossDomainIdType.VirtgpuBlob => transport.OpenHostBlob(id.Id, id.Size),
                    CrossDomainIdType.WritePipe => _pipes!.OpenForClient(id.Id),
                    _ => throw new InvalidDataException($"identifier type {id.Type} in a RECEIVE"),
                });
            }
            var data = _events.Take(message.Data, fds);
            if (data.Length > 0)
                ProxySocket.SendAll(client, data, fds.Select(fd => fd.Value).ToArray(), ClientWriteTimeout);
        }
        finally
        {
            fds.ForEach(fd => fd.Dispose()); // the kernel gave the client its own copies
        }
    }
}
