using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using MiniVmm.Virtio;

namespace MiniVmm.Gpu.CrossDomain;

/// <summary>
/// One cross-domain context (CTX_CREATE with capset 5): the SUBMIT_3D command stream, the two rings, the channel
/// to the compositor, and the compositor fds waiting for the guest to create them as HOST3D blobs.
/// Threading: <see cref="_lock"/> guards the stream state (channel, rings, POLL count, watches), so SUBMIT_3D from
/// the queue and <see cref="Pump"/> from the event loop take turns; all compositor I/O runs under it and no other
/// backend lock. It calls the host (<see cref="ICrossDomainHost"/>), which takes the resource lock, never the reverse.
/// <see cref="_registryLock"/> guards the parked compositor fds and the image answers, which HOST3D blob creation
/// reads under the resource lock: a leaf, taken last. <see cref="Error"/> is written under <see cref="_lock"/>.
/// </summary>
public sealed partial class CrossDomainContext : ICrossDomainResources, IDisposable
{
    /// <summary>Compositor fds parked for RESOURCE_CREATE_BLOB at once: bounds what a compositor can make us hold.</summary>
    public const int MaxRegisteredFds = 64;

    /// <summary>
    /// GET_IMAGE_REQUIREMENTS answers remembered for HOST3D creation. crosvm keeps every one for the context's life
    /// (a guest may allocate several buffers from one query); this bound keeps a guest that queries in a loop from
    /// growing the table without end: past it the oldest answer is forgotten.
    /// </summary>
    public const int MaxImageBlobIds = 4096;

    private readonly Lock _lock = new();
    private readonly Lock _registryLock = new();
    private readonly ICrossDomainHost _host;
    private readonly CompositorSockets _sockets;
    private readonly PendingHostFds _registered; // guarded by _registryLock
    private readonly CrossDomainLedger _ledger;
    private readonly Dictionary<uint, ulong> _imageBlobSizes = []; // guarded by _registryLock: blob_id -> size, of the answers given
    private readonly Queue<uint> _imageBlobOrder = new(); // guarded by _registryLock
    private CrossDomainChannel? _channel;
    private uint _queryRing;
    private uint _channelRing;
    private bool _initialized;
    private bool _disposed;

    internal CrossDomainContext(uint id, ICrossDomainHost host, CompositorSockets sockets, EventLoop loop, Action<CrossDomainContext> onReadable,
        CrossDomainLedger ledger, Action<string>? tracer = null)
    {
        Id = id;
        _ledger = ledger;
        _registered = new PendingHostFds(MaxRegisteredFds, ledger);
        _tracer = tracer;
        _host = host;
        _sockets = sockets;
        _loop = loop;
        _onReadable = onReadable;
    }

    public uint Id { get; }

    /// <summary>Why the channel is unusable (no socket, connect failed), or null.</summary>
    public string? Error { get; private set; }

    public bool IsConnected
    {
        get
        {
            lock (_lock)
                return _channel is { IsHungUp: false };
        }
    }

    /// <summary>INIT named channel type 0: a context for GET_IMAGE_REQUIREMENTS only (minigbm's), with no channel.</summary>
    public bool IsQueryOnly { get; private set; }

    /// <summary>SEND bytes the compositor has not taken yet (for tests and diagnostics).</summary>
    public long QueuedSendBytes
    {
        get
        {
            lock (_lock)
                return _channel?.QueuedSendBytes ?? 0;
        }
    }

    /// <summary>Compositor fds not yet created as blobs (for tests and diagnostics).</summary>
    public int RegisteredFdCount
    {
        get
        {
            lock (_registryLock)
                return _registered.Count;
        }
    }

    /// <summary>
    /// Runs a SUBMIT_3D stream. The whole stream is parsed before anything runs, so a malformed one changes nothing.
    /// <paramref name="polls"/> counts its POLLs: each is answered by one message on the channel ring, which may come
    /// later (from <see cref="Pump"/>). Returns null, or why a command failed (commands before it have run).
    /// </summary>
    public string? Submit(ReadOnlySpan<byte> stream, out int polls)
    {
        lock (_lock)
            return _disposed ? Fail(out polls, $"context {Id} was destroyed") : SubmitLocked(stream, out polls);
    }

    private string? SubmitLocked(ReadOnlySpan<byte> stream, out int polls)
    {
        polls = 0;
        var commands = new List<CrossDomainCommand>();
        if (!CrossDomainCommandParser.TryParse(stream, commands, out var parseError, out var errorOffset))
            return $"bad cross-domain command at offset {errorOffset}: {parseError}";
        foreach (var command in commands)
        {
            var error = command switch
            {
                CrossDomainInitCommand init => Init(init),
                CrossDomainGetImageRequirementsCommand query => ImageRequirements(query),
                CrossDomainPollCommand => Poll(ref polls),
                CrossDomainSendCommand send => Send(send.DataIn(stream), send.Identifiers),
                CrossDomainWriteCommand write => Write(write.Identifier, write.DataIn(stream), write.HangUp),
                _ => $"{command.Cmd} is not a guest command",
            };
            TraceCommand(command, stream, error);
            if (error is not null)
                return error;
        }
        // Data may already be waiting (or the channel is gone): answer what can be answered now, watch for the rest.
        PumpAll();
        return null;
    }

    /// <summary>
    /// Takes the compositor fd registered as <paramref name="blobId"/> for a HOST3D blob of <paramref name="size"/>
    /// bytes. False when no such id was registered; true with <paramref name="error"/> when it was but the size is
    /// wrong (the registration stays, so a corrected create still works).
    /// </summary>
    public bool TryTakeRegistered(ulong blobId, ulong size, out SafeFileHandle? fd, out string? error)
    {
        lock (_registryLock)
            return _registered.TryClaim(blobId, size, out fd, out error);
    }

    /// <summary>
    /// crosvm's rule for HOST3D blobs that name no compositor fd (rutabaga_gfx/src/cross_domain/mod.rs
    /// `context_create_blob`): the blob_id must be one a GET_IMAGE_REQUIREMENTS on this context returned, and the
    /// size exactly that answer's size. Null when it is; otherwise why not (upstream's InvalidCrossDomainItemId or
    /// "blob size mismatch"). The answer stays usable for more blobs, as upstream keeps it.
    /// </summary>
    public string? CheckImageBlob(ulong blobId, ulong size)
    {
        lock (_registryLock)
            return CheckImageBlobLocked(blobId, size);
    }

    private string? CheckImageBlobLocked(ulong blobId, ulong size)
    {
        if (blobId > uint.MaxValue || !_imageBlobSizes.TryGetValue((uint)blobId, out ulong expected))
            return $"blob_id {blobId} is not one GET_IMAGE_REQUIREMENTS returned on context {Id} (crosvm: InvalidCrossDomainItemId)";
        return size == expected ? null : $"blob_id {blobId} was answered for {expected} bytes, {size} asked (crosvm: blob size mismatch)";
    }

    bool ICrossDomainResources.TryGetFd(uint resourceId, out SafeHandle fd, out ulong size) =>
        _host.TryGetBlobFd(Id, resourceId, out fd, out size);

    uint ICrossDomainResources.RegisterHostFd(SafeHandle fd, ulong size)
    {
        lock (_registryLock)
            return _registered.Register(fd, size);
    }

    /// <summary>Closes the channel, its pipes and the parked fds (CTX_DESTROY, reset); the backend calls it after its own lock.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            Disarm();
            _channel?.Dispose();
            _channel = null;
            _pendingPolls = 0;
        }
        lock (_registryLock)
            _registered.Dispose();
    }

    private static string Fail(out int polls, string error)
    {
        polls = 0;
        return error;
    }

    private string? Init(CrossDomainInitCommand init)
    {
        if (_initialized)
            return "INIT twice on one context";
        if (_host.CheckRing(Id, init.QueryRingId) is { } queryError)
            return "query ring: " + queryError;
        if (init.ChannelType == 0)
        {
            // crosvm (mod.rs `initialize`): 0 asks for no channel, so the channel ring is not looked at. minigbm's
            // virtgpu_cross_domain.c sends this 16-byte INIT to run image queries only.
            _queryRing = init.QueryRingId;
            _initialized = IsQueryOnly = true;
            Error = "a query-only context (channel type 0) has no channel";
            return null;
        }
        if (_host.CheckRing(Id, init.ChannelRingId) is { } channelError)
            return "channel ring: " + channelError;
        _queryRing = init.QueryRingId;
        _channelRing = init.ChannelRingId;
        _initialized = true;
        // From here on POLL works either way: a context without a compositor (an unconfigured channel type, an
        // unreachable socket) answers every POLL with a hang-up.
        if (_sockets.PathFor(init.ChannelType) is not { } path)
            Error = CompositorSockets.NotConfigured(init.ChannelType);
        else
        {
            _channel = CrossDomainChannel.TryConnect(path, this, out var connectError, _ledger);
            Error = connectError;
        }
        return Error is null ? null : "INIT: " + Error;
    }

    /// <summary>
    /// Answers on the query ring. On any refusal the ring still gets a zeroed answer (size 0, blob_id 0) before the
    /// error: sommelier reads the ring once the fence signals without looking at the response type, and must see
    /// "nothing" rather than the previous answer's stride and blob_id. crosvm leaves the ring as it was instead.
    /// </summary>
    private string? ImageRequirements(CrossDomainGetImageRequirementsCommand query)
    {
        if (!_initialized)
            return "GET_IMAGE_REQUIREMENTS before INIT";
        var requirements = new CrossDomainImageRequirements
        {
            Modifier = 0, // DRM_FORMAT_MOD_LINEAR
            MapInfo = 1, // VIRTIO_GPU_MAP_CACHE_CACHED, as crosvm's system gralloc answers
            MemoryIdx = -1,
            PhysicalDeviceIdx = -1,
        };
        string? error = CrossDomainImageLayout.TryCompute(query.Width, query.Height, query.DrmFormat, ref requirements);
        if (error is null)
            requirements.BlobId = RememberImageBlob(requirements.SizeBytes);
        else
            requirements = default;
        var message = new byte[CrossDomainImageRequirements.Size];
        CrossDomainRingWriter.WriteImageRequirements(message, in requirements);
        string? ringError = _host.WriteRing(Id, _queryRing, message);
        return error is null ? ringError : "GET_IMAGE_REQUIREMENTS: " + error;
    }

    private uint RememberImageBlob(ulong size)
    {
        lock (_registryLock)
            return RememberImageBlobLocked(size);
    }

    private uint RememberImageBlobLocked(ulong size)
    {
        if (_imageBlobOrder.Count == MaxImageBlobIds)
            _imageBlobSizes.Remove(_imageBlobOrder.Dequeue());
        // From the compositor fds' counter, so an image's blob id never names a parked fd.
        uint blobId = _registered.NextId();
        _imageBlobSizes[blobId] = size;
        _imageBlobOrder.Enqueue(blobId);
        return blobId;
    }

    private string? Poll(ref int polls)
    {
        if (!_initialized)
            return "POLL before INIT";
        if (IsQueryOnly)
            return "POLL on a query-only context (channel type 0 has no channel ring)";
        // Each waiting POLL is a fence the device holds, so no more can wait than a queue has heads.
        if (_pendingPolls >= MaxPendingPolls)
            return $"more than {MaxPendingPolls} POLLs waiting";
        polls = checked(polls + 1);
        _pendingPolls = checked(_pendingPolls + 1);
        return null;
    }

    private string? Send(ReadOnlySpan<byte> data, ReadOnlySpan<(uint Id, uint Type)> identifiers)
    {
        if (!_initialized)
            return "SEND before INIT";
        if (_channel is null)
            return "SEND: no compositor connection (" + Error + ")";
        var error = _channel.Send(data, identifiers);
        return error == CrossDomainChannelError.None ? null : $"SEND: {error}";
    }

    private string? Write(uint pipeId, ReadOnlySpan<byte> data, bool hangUp)
    {
        if (_channel is null)
            return "WRITE: no compositor connection";
        var error = _channel.Write(pipeId, data, hangUp);
        return error == CrossDomainChannelError.None ? null : $"WRITE: {error}";
    }
}
