using MiniVmm.Gpu.Backend;
using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Virtio;
using MiniVmm.Virtio.Queue;

namespace MiniVmm.Gpu.Winsrv;

/// <summary>
/// The winsrv front door (docs/winsrv.md): CONNECT/DISCONNECT on the control queue, TX on its own queue, RX into
/// buffers the guest pre-posts on another, all over <see cref="CrossDomainChannel"/>, one per guest connection id.
/// Every guest value is checked and answered with an error response; nothing a guest or compositor does throws.
/// Threading: <see cref="_lock"/> guards everything; the device thread (queue notifies, control commands) and the
/// event-loop thread (socket readable) both take it. Lock order: device lock, then this one, then the backend's.
/// </summary>
public sealed partial class WinsrvFrontend : IDisposable
{
    /// <summary>Open connections per device: bounds the host sockets a guest can pin.</summary>
    public const int MaxConnections = 64;

    private readonly Lock _lock = new();
    private readonly WinsrvNumbers _numbers;
    private readonly CompositorSockets _sockets;
    private readonly WinsrvResources _resources;
    private readonly Action<string>? _tracer;
    private readonly Dictionary<uint, WinsrvConnection> _connections = []; // guarded by _lock
    private Virtqueue? _rx, _tx; // guarded by _lock; null until the driver negotiated winsrv and enabled them
    private IVirtioInterrupt? _interrupt; // guarded by _lock
    private EventLoop? _loop; // guarded by _lock

    internal WinsrvFrontend(GpuOptions options, VirtioGpuBackend backend, Action<string>? tracer)
    {
        _numbers = options.WinsrvNumbers;
        _sockets = options.WaylandSockets;
        _resources = new WinsrvResources(backend);
        _tracer = tracer;
        _winsrvTrace = options.WinsrvTrace;
        _rxData = new byte[_numbers.MaxData];
    }

    public int ConnectionCount
    {
        get
        {
            lock (_lock)
                return _connections.Count;
        }
    }

    /// <summary>
    /// Watch compositor sockets on <paramref name="loop"/> (the machine's device loop). Without one, sockets are
    /// only read when the guest kicks a winsrv queue, or when the host calls <see cref="Pump"/>.
    /// </summary>
    public void UseEventLoop(EventLoop loop)
    {
        lock (_lock)
        {
            _loop = loop;
            foreach (var connection in _connections.Values)
                connection.Channel.OutgoingLimitBytes = CrossDomainChannel.DefaultOutgoingLimitBytes;
            UpdateWatchesLocked();
        }
    }

    internal bool OwnsQueue(int queueIndex) => queueIndex == _numbers.RxQueueIndex || queueIndex == _numbers.TxQueueIndex;

    /// <summary>Takes the rx and tx queues when the driver accepted the winsrv feature bit; otherwise winsrv stays off.</summary>
    internal void Activate(VirtioActivation activation)
    {
        lock (_lock)
        {
            ResetLocked();
            if ((activation.NegotiatedFeatures & (1UL << _numbers.FeatureBit)) == 0)
                return;
            _rx = activation.Queues.ElementAtOrDefault(_numbers.RxQueueIndex);
            _tx = activation.Queues.ElementAtOrDefault(_numbers.TxQueueIndex);
            _interrupt = activation.Interrupt;
        }
    }

    internal void Reset()
    {
        lock (_lock)
            ResetLocked();
    }

    /// <summary>
    /// A compositor fd announced in an RX's resource_ids, for CREATE_BLOB(HOST3D, blob_id) to adopt (see
    /// <see cref="WinsrvResources.TryClaimHostFd"/>). Called outside the backend's lock: ours is taken first elsewhere.
    /// </summary>
    internal bool TryClaimHostFd(ulong blobId, ulong size, out Microsoft.Win32.SafeHandles.SafeFileHandle? fd, out string? error)
    {
        lock (_lock)
            return _resources.TryClaimHostFd(blobId, size, out fd, out error);
    }

    internal void QueueNotify(int queueIndex)
    {
        lock (_lock)
        {
            if (_interrupt is not { } interrupt)
                return;
            if (queueIndex == _numbers.TxQueueIndex && _tx is { } tx)
                ServeTxLocked(tx, interrupt);
            else if (queueIndex == _numbers.RxQueueIndex && _rx is { } rx)
                TakeRxBuffersLocked(rx, interrupt);
        }
    }

    /// <summary>
    /// CONNECT and DISCONNECT, routed here from the control queue; null for any other command. The header has been
    /// read; the body is the connection id and the channel (MiniVmm's use of the padding; DISCONNECT ignores it).
    /// </summary>
    internal GpuResponse? DispatchControl(in VirtioGpuCtrlHdr hdr, DescriptorChainReader reader, out string? fields)
    {
        fields = null;
        bool connect = hdr.Type == _numbers.CmdConnect;
        if (!connect && hdr.Type != _numbers.CmdDisconnect)
            return null;
        Span<byte> body = stackalloc byte[WinsrvConnect.Size - GpuResponse.HeaderSize];
        if (!reader.TryReadBytes(body))
            return GpuResponse.ErrUnspec($"winsrv request body is {reader.Remaining} bytes, needs {body.Length}");
        uint id = BitConverter.ToUInt32(body);
        uint channel = BitConverter.ToUInt32(body[4..]);
        string request = connect ? $"CONNECT fd={id} channel={channel}" : $"DISCONNECT fd={id}";
        fields = "winsrv " + request;
        lock (_lock)
        {
            var response = connect ? ConnectLocked(id, channel) : DisconnectLocked(id);
            TraceWinsrv($"{request} -> {response.Name}{(response.Detail is null ? "" : $" ({response.Detail})")}");
            return response;
        }
    }

    public void Dispose() => Reset();

    private GpuResponse ConnectLocked(uint id, uint channel)
    {
        if (_interrupt is null)
            return GpuResponse.ErrUnspec("winsrv was not negotiated");
        if (_connections.ContainsKey(id))
            return GpuResponse.ErrInvalidParameter($"connection {id} is already open");
        if (_connections.Count >= MaxConnections)
            return GpuResponse.ErrOutOfMemory($"{MaxConnections} connections are open already");
        // Channel 0 is what a guest that knows nothing of channels sends: the unnamed socket, like 1.
        uint wanted = channel == 0 ? CompositorSockets.DefaultChannel : channel;
        if (_sockets.PathFor(wanted) is not { } path)
        {
            string reason = CompositorSockets.NotConfigured(wanted);
            Console.Error.WriteLine($"minivmm: winsrv CONNECT {id}: {reason}");
            return GpuResponse.ErrUnspec(reason);
        }
        if (CrossDomainChannel.TryConnect(path, _resources, out string? error, _resources.Ledger) is not { } connection)
        {
            // One line for the operator even without --trace: the guest only sees ERR_UNSPEC.
            Console.Error.WriteLine($"minivmm: winsrv CONNECT {id}: compositor unreachable at {path}: {error}");
            return GpuResponse.ErrUnspec($"compositor unreachable: {error}");
        }
        // Queued TX is flushed from the event loop; without one nothing would, so sends then wait as they always did.
        if (_loop is null)
            connection.OutgoingLimitBytes = 0;
        _connections.Add(id, new WinsrvConnection(id, connection));
        UpdateWatchesLocked();
        return GpuResponse.OkNoData;
    }

    private GpuResponse DisconnectLocked(uint id)
    {
        if (!_connections.Remove(id, out var connection))
            return GpuResponse.ErrInvalidParameter($"no connection {id}");
        connection.Dispose();
        return GpuResponse.OkNoData;
    }

    private void ResetLocked()
    {
        foreach (var connection in _connections.Values)
            connection.Dispose();
        _connections.Clear();
        _rxPosted.Clear();
        _resources.Dispose();
        _rx = _tx = null;
        _interrupt = null;
    }

    /// <summary>Same rule as the control queue: a chain the queue rejects comes back with used.len 0 and NEEDS_RESET.</summary>
    private DescriptorChain? PopLocked(Virtqueue queue, int queueIndex, IVirtioInterrupt interrupt, ref bool returned, out bool stop)
    {
        stop = false;
        var pop = queue.TryPop();
        if (pop.Status == PopStatus.Empty)
        {
            stop = true;
            return null;
        }
        if (pop.Status != PopStatus.Error)
            return pop.Chain;
        _tracer?.Invoke($"winsrv queue {queueIndex}: {pop.Error}");
        interrupt.SignalNeedsReset($"virtio-gpu queue {queueIndex}: {pop.Error.Message}");
        if (pop.Head is { } head)
            returned |= ReturnLocked(queue, queueIndex, head, 0, interrupt, ref stop);
        stop |= pop.Error.StopsQueue;
        return null;
    }

    private static bool ReturnLocked(Virtqueue queue, int queueIndex, ushort head, uint written, IVirtioInterrupt interrupt, ref bool stop)
    {
        if (queue.AddUsed(head, written))
            return true;
        interrupt.SignalNeedsReset($"virtio-gpu queue {queueIndex}: the used ring is no longer in guest memory");
        stop = true;
        return false;
    }
}
