using MiniVmm.CrossDomain;
using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Virtio;
using MiniVmm.Wayland;

namespace MiniVmm.GuestProxy.Pipes;

/// <summary>
/// One session's pipes, both directions (reference §2.4), pumped on an event-loop thread of their own so a slow pipe
/// never holds up the session's Wayland traffic.
/// <list type="bullet">
/// <item>Client → compositor data (a request carries the write end of the client's pipe, e.g.
/// wl_data_offer.receive): the fd is kept here and goes out as READ_PIPE under the id the host will give the pipe it
/// makes for the compositor (it counts from PIPE_READ_START + 1 per context). What the compositor writes comes back
/// as READ messages (<see cref="OnRead"/>) and is written into the client's fd, buffered while the client is slow;
/// hang_up closes it once the buffer is out.</item>
/// <item>Compositor → client data (an event carries a pipe's write end, e.g. wl_data_source.send): the host names it
/// with a WRITE_PIPE id; the client gets the write end of a local pipe (<see cref="OpenForClient"/>) and what it
/// writes goes out as WRITEs of at most <see cref="CrossDomainWire.MaxWriteData"/> bytes, then a WRITE with hang_up
/// when it closes its end.</item>
/// </list>
/// Thread-safety: the send thread adds client pipes, the receive thread delivers READs and opens client pipes, the
/// loop thread pumps; every table is guarded by <see cref="_lock"/>, and no lock is held across a transport call.
/// </summary>
internal sealed partial class PipeRelay : IDisposable
{
    /// <summary>Open pipes per direction: the device's own bound, and the most fds a session pins here.</summary>
    public const int MaxOpenPipes = CrossDomainConstants.MaxOpenPipes;

    /// <summary>READ bytes a session holds for clients that do not read their pipes; past it the pipe that overflows it is dropped (its client gets end-of-file early).</summary>
    public const int MaxBuffered = 16 << 20;

    private readonly Lock _lock = new();
    private readonly ICrossDomainTransport _transport;
    private readonly Action<string> _log;
    private readonly EventLoop _loop;
    private readonly Dictionary<uint, ToClient> _toClients = [];
    private readonly Dictionary<uint, FromClient> _fromClients = [];
    private readonly byte[] _chunk = new byte[CrossDomainWire.MaxWriteData]; // the loop thread's
    private uint _nextReadPipeId = CrossDomainConstants.PipeReadStart + 1;
    private int _buffered;

    /// <param name="log">Lines about this session (the caller prefixes the client).</param>
    public PipeRelay(string name, ICrossDomainTransport transport, Action<string> log)
    {
        _transport = transport;
        _log = log;
        _loop = new EventLoop(name, error => log($"pipe relay: {error.Message}"));
        _loop.Start();
    }

    /// <summary>Pipes open in both directions (for tests and diagnostics).</summary>
    public int OpenPipes
    {
        get
        {
            lock (_lock)
                return _toClients.Count + _fromClients.Count;
        }
    }

    /// <summary>
    /// Takes a client's pipe write end for a SEND: the identifier to send, or null (fd untouched) when
    /// <see cref="MaxOpenPipes"/> are open. Must be called in the order the identifiers are sent.
    /// </summary>
    public CrossDomainIdentifier? AddClientWriteEnd(Fd clientEnd)
    {
        lock (_lock)
        {
            if (_toClients.Count >= MaxOpenPipes)
                return null;
            // Shared with the client's copy, if it kept one; a client writing the end it handed over is unusual.
            HostFd.SetNonBlocking(clientEnd);
            var id = _nextReadPipeId++;
            var pipe = new ToClient(clientEnd);
            _toClients.Add(id, pipe);
            // Edge-triggered: one wake-up each time room appears (or the reader goes), none while nothing is waiting.
            pipe.Watch = _loop.Add(clientEnd, events => OnClientWritable(id, events), Tmds.Linux.LibC.EPOLLOUT | Tmds.Linux.LibC.EPOLLET);
            return new CrossDomainIdentifier(id, (uint)CrossDomainIdType.ReadPipe, 0);
        }
    }

    /// <summary>
    /// A WRITE_PIPE identifier of a RECEIVE: the write end the client gets (the caller passes and closes it). Throws
    /// <see cref="InvalidDataException"/> for a host that reuses an id or opens too many.
    /// </summary>
    public Fd OpenForClient(uint pipeId)
    {
        lock (_lock)
        {
            if (_fromClients.ContainsKey(pipeId))
                throw new InvalidDataException($"the host named write pipe {pipeId} twice");
            if (_fromClients.Count >= MaxOpenPipes)
                throw new InvalidDataException($"the host opened more than {MaxOpenPipes} write pipes");
            if (!HostFd.TryCreatePipe(out var readEnd, out var writeEnd, out var error))
                throw new IOException($"pipe2 for write pipe {pipeId}: errno {error}");
            var pipe = new FromClient(readEnd!);
            _fromClients.Add(pipeId, pipe);
            pipe.Watch = _loop.Add(readEnd!, _ => OnClientReadable(pipeId));
            return writeEnd!;
        }
    }

    public void Dispose()
    {
        _loop.Dispose(); // joins the loop thread: no callback runs after this
        lock (_lock)
        {
            foreach (var pipe in _toClients.Values)
                pipe.Close();
            foreach (var pipe in _fromClients.Values)
                pipe.Close();
            _toClients.Clear();
            _fromClients.Clear();
            _buffered = 0;
        }
    }

    /// <summary>A client's write end and the READ bytes it has not taken yet.</summary>
    private sealed class ToClient(Fd fd)
    {
        public Fd Fd { get; } = fd;
        public IDisposable? Watch { get; set; }
        public Queue<byte[]> Waiting { get; } = new();
        public int WaitingOffset { get; set; } // bytes of Waiting.Peek() already written
        public int WaitingBytes { get; set; }
        public bool HostClosed { get; set; }

        public void Close()
        {
            Watch?.Dispose();
            Fd.Dispose();
        }
    }

    /// <summary>The read end of the pipe a client writes for the compositor.</summary>
    private sealed class FromClient(Fd fd)
    {
        public Fd Fd { get; } = fd;
        public IDisposable? Watch { get; set; }

        public void Close()
        {
            Watch?.Dispose();
            Fd.Dispose();
        }
    }
}
