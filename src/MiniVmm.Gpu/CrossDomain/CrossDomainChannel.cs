using System.Runtime.InteropServices;
using MiniVmm.Wayland;

namespace MiniVmm.Gpu.CrossDomain;

/// <summary>
/// The host end of one guest Wayland connection: a Unix stream socket to the compositor, plus the pipes opened
/// through it. Guest to host: <see cref="Send"/> (SEND) and <see cref="Write"/> (WRITE). Host to guest:
/// <see cref="TryReceive"/> (becomes RECEIVE) and <see cref="TryReadPipe"/> (becomes READ). It knows no virtqueues
/// or rings, so the cross-domain context and the winsrv front door both drive it; fd/resource translation goes
/// through <see cref="ICrossDomainResources"/>.
/// SEND and WRITE never wait for a slow reader while little is queued: what the socket or pipe cannot take now is
/// queued (see CrossDomainChannel.Outgoing.cs) and the owner flushes it when the fd becomes writable.
/// Not thread-safe: the owner (the context's event loop) serialises every call.
/// </summary>
public sealed partial class CrossDomainChannel : IDisposable
{
    /// <summary>How long a send may wait for a full socket or pipe when there is no event loop to queue for (<see cref="OutgoingLimitBytes"/> 0).</summary>
    public const int SendTimeoutMs = 1000;

    /// <summary>Default for <see cref="OutgoingLimitBytes"/>: what a compositor that stops reading can make us buffer.</summary>
    public const int DefaultOutgoingLimitBytes = 8 << 20;

    /// <summary>Open pipes per channel, each direction: bounds the host fds a guest (or compositor) can pin.</summary>
    public const int MaxPipes = CrossDomainConstants.MaxOpenPipes;

    /// <summary>READ_PIPE identifiers one SEND may carry: 1, as crosvm ("expected just one pipe pair").</summary>
    public const int MaxReadPipesPerSend = 1;

    private readonly UnixSocket _socket;
    private readonly ICrossDomainResources _resources;
    private readonly FdQueue _received = new();
    private readonly Dictionary<uint, Fd> _readPipes = [];
    private readonly Dictionary<uint, WritePipe> _writePipes = [];
    private uint _nextReadPipeId = CrossDomainConstants.PipeReadStart + 1;
    private uint _nextWritePipeId = 1;
    private bool _hungUp;
    private readonly CrossDomainLedger _ledger;
    private CrossDomainLedger.Holding _holding; // what the ledger was last told this channel holds

    private CrossDomainChannel(UnixSocket socket, ICrossDomainResources resources, CrossDomainLedger? ledger)
    {
        _socket = socket;
        _resources = resources;
        _socketWriter = socket.Send;
        _ledger = ledger ?? new CrossDomainLedger();
    }

    /// <summary>The compositor socket, for the owner's poll/epoll (readable: call <see cref="TryReceive"/>).</summary>
    public SafeHandle Socket => _socket.Handle;

    /// <summary>Compositor fds closed instead of forwarded: past 28 in one message, unsupported kinds, refused blobs.</summary>
    public int FdsDropped { get; private set; }

    public bool IsHungUp => _hungUp;

    /// <summary>Connects to the compositor at <paramref name="socketPath"/>; null with a one-line reason when unreachable.</summary>
    /// <param name="ledger">The device's totals over all channels (null: this channel's own, for a channel without a device).</param>
    public static CrossDomainChannel? TryConnect(string socketPath, ICrossDomainResources resources, out string? error, CrossDomainLedger? ledger = null)
    {
        try
        {
            var socket = WaylandConnection.ConnectSocket(socketPath);
            error = null;
            return new CrossDomainChannel(socket, resources, ledger);
        }
        catch (WaylandException exception)
        {
            error = exception.Message;
            return null;
        }
    }

    /// <summary>Wraps an already connected socket (a socketpair in tests, a relay); the channel owns it.</summary>
    public static CrossDomainChannel FromSocket(UnixSocket socket, ICrossDomainResources resources, CrossDomainLedger? ledger = null) =>
        new(socket, resources, ledger);

    /// <summary>Tells the ledger what this channel holds now (queued bytes and open pipes); called as each operation ends.</summary>
    private void Report() =>
        _ledger.Report(ref _holding, _outgoing.HeapBytes + _writePipes.Values.Concat(_drainingPipes).Sum(pipe => pipe.Queue.HeapBytes),
            _readPipes.Count + _writePipes.Count + _drainingPipes.Count);

    /// <summary>
    /// SEND: translates every identifier first (blob → dup of its fd; READ_PIPE → a new host pipe whose write end
    /// goes to the compositor), and only if all succeed sends the bytes with the fds. A refused SEND changes nothing.
    /// </summary>
    public CrossDomainChannelError Send(ReadOnlySpan<byte> data, ReadOnlySpan<(uint Id, uint Type)> identifiers)
    {
        try
        {
            return SendCore(data, identifiers);
        }
        finally
        {
            Report();
        }
    }

    private CrossDomainChannelError SendCore(ReadOnlySpan<byte> data, ReadOnlySpan<(uint Id, uint Type)> identifiers)
    {
        if (_hungUp)
            return CrossDomainChannelError.HungUp;
        if (identifiers.Length > CrossDomainConstants.MaxIdentifiers)
            return CrossDomainChannelError.TooManyIdentifiers;
        if (data.IsEmpty)
            return identifiers.IsEmpty ? CrossDomainChannelError.None : CrossDomainChannelError.FdsWithoutData;
        var toSend = new List<SafeHandle>(identifiers.Length);
        var newReadPipes = new List<Fd>();
        try
        {
            var error = Translate(identifiers, toSend, newReadPipes);
            if (error == CrossDomainChannelError.None)
                error = SendOrQueue(data, toSend);
            if (error != CrossDomainChannelError.None)
                return error;
            foreach (var readEnd in newReadPipes)
                _readPipes.Add(_nextReadPipeId++, readEnd);
            newReadPipes.Clear();
            return CrossDomainChannelError.None;
        }
        finally
        {
            // Fds that went out are held by the kernel now, queued ones were taken by the queue: the rest can go.
            foreach (var handle in toSend)
                handle.Dispose();
            foreach (var readEnd in newReadPipes)
                readEnd.Dispose();
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        _received.Dispose();
        _outgoing.Dispose();
        foreach (var pipe in _readPipes.Values)
            pipe.Dispose();
        foreach (var pipe in _writePipes.Values.Concat(_drainingPipes))
            pipe.Dispose();
        _readPipes.Clear();
        _writePipes.Clear();
        _drainingPipes.Clear();
        Report();
    }

    private CrossDomainChannelError Translate(ReadOnlySpan<(uint Id, uint Type)> identifiers, List<SafeHandle> toSend, List<Fd> newReadPipes)
    {
        foreach (var (id, type) in identifiers)
        {
            switch ((CrossDomainIdType)type)
            {
                case CrossDomainIdType.VirtgpuBlob:
                    if (!_resources.TryGetFd(id, out var fd, out _))
                        return CrossDomainChannelError.UnknownResource;
                    toSend.Add(fd);
                    break;
                case CrossDomainIdType.ReadPipe:
                    // The guest names the pipe before the host makes it, so the id must be the next one both count.
                    // One per SEND, as crosvm (rutabaga_gfx/src/cross_domain/mod.rs `send`: "expected just one pipe
                    // pair") and sommelier do: a guest that relies on more would not run on crosvm.
                    if (newReadPipes.Count >= MaxReadPipesPerSend)
                        return CrossDomainChannelError.TooManyReadPipes;
                    if (id != _nextReadPipeId + (uint)newReadPipes.Count)
                        return CrossDomainChannelError.ReadPipeIdMismatch;
                    if (_readPipes.Count + newReadPipes.Count >= MaxPipes || !_ledger.HasRoomForPipe())
                        return CrossDomainChannelError.TooManyPipes;
                    if (!Pipe.TryCreate(out var readEnd, out var writeEnd, out _))
                        return CrossDomainChannelError.PipeFailed;
                    newReadPipes.Add(readEnd!);
                    toSend.Add(writeEnd!);
                    break;
                default:
                    return CrossDomainChannelError.UnsupportedIdentifierType;
            }
        }
        return CrossDomainChannelError.None;
    }
}
