using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using MiniVmm.Virtio;

namespace MiniVmm.Gpu.CrossDomain;

/// <summary>
/// One cross-domain context (CTX_CREATE with capset 5): the SUBMIT_3D command stream, the two rings, the channel
/// to the compositor, and the compositor fds waiting for the guest to create them as HOST3D blobs.
/// Threading: every member is called with the back-end lock held (SUBMIT_3D from the queue, <see cref="Pump"/> from
/// the event loop through the device), so the context needs no lock of its own.
/// </summary>
public sealed partial class CrossDomainContext : ICrossDomainResources, IDisposable
{
    /// <summary>Compositor fds parked for RESOURCE_CREATE_BLOB at once: bounds what a compositor can make us hold.</summary>
    public const int MaxRegisteredFds = 64;

    /// <summary>Largest GET_IMAGE_REQUIREMENTS width or height (what Linux's KMS and Weston accept).</summary>
    public const uint MaxImageDimension = 16384;

    private readonly ICrossDomainHost _host;
    private readonly CompositorSockets _sockets;
    private readonly PendingHostFds _registered = new(MaxRegisteredFds);
    private CrossDomainChannel? _channel;
    private uint _queryRing;
    private uint _channelRing;
    private bool _initialized;

    internal CrossDomainContext(uint id, ICrossDomainHost host, CompositorSockets sockets, EventLoop loop, Action<CrossDomainContext> onReadable,
        Action<string>? tracer = null)
    {
        Id = id;
        _tracer = tracer;
        _host = host;
        _sockets = sockets;
        _loop = loop;
        _onReadable = onReadable;
    }

    public uint Id { get; }

    /// <summary>Why the channel is unusable (no socket, connect failed), or null.</summary>
    public string? Error { get; private set; }

    public bool IsConnected => _channel is { IsHungUp: false };

    /// <summary>SEND bytes the compositor has not taken yet (for tests and diagnostics).</summary>
    public long QueuedSendBytes => _channel?.QueuedSendBytes ?? 0;

    /// <summary>Compositor fds not yet created as blobs (for tests and diagnostics).</summary>
    public int RegisteredFdCount => _registered.Count;

    /// <summary>
    /// Runs a SUBMIT_3D stream. The whole stream is parsed before anything runs, so a malformed one changes nothing.
    /// <paramref name="polls"/> counts its POLLs: each is answered by one message on the channel ring, which may come
    /// later (from <see cref="Pump"/>). Returns null, or why a command failed (commands before it have run).
    /// </summary>
    public string? Submit(ReadOnlySpan<byte> stream, out int polls)
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
    public bool TryTakeRegistered(ulong blobId, ulong size, out SafeFileHandle? fd, out string? error) =>
        _registered.TryClaim(blobId, size, out fd, out error);

    bool ICrossDomainResources.TryGetFd(uint resourceId, out SafeHandle fd, out ulong size) =>
        _host.TryGetBlobFd(Id, resourceId, out fd, out size);

    uint ICrossDomainResources.RegisterHostFd(SafeHandle fd, ulong size) => _registered.Register(fd, size);

    public void Dispose()
    {
        Disarm();
        _channel?.Dispose();
        _channel = null;
        _registered.Dispose();
        _pendingPolls = 0;
    }

    private string? Init(CrossDomainInitCommand init)
    {
        if (_initialized)
            return "INIT twice on one context";
        if (_host.CheckRing(Id, init.QueryRingId) is { } queryError)
            return "query ring: " + queryError;
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
            _channel = CrossDomainChannel.TryConnect(path, this, out var connectError);
            Error = connectError;
        }
        return Error is null ? null : "INIT: " + Error;
    }

    private string? ImageRequirements(CrossDomainGetImageRequirementsCommand query)
    {
        if (!_initialized)
            return "GET_IMAGE_REQUIREMENTS before INIT";
        if (query.Width is 0 or > MaxImageDimension || query.Height is 0 or > MaxImageDimension)
            return $"image {query.Width}x{query.Height} is outside 1..{MaxImageDimension}";
        if (!IsFourBytesPerPixel(query.DrmFormat))
            return $"DRM format 0x{query.DrmFormat:x} is not a 32-bit RGB format";
        // Linear, 64-byte aligned rows, whole pages: what the guest then creates as a HOST3D blob and shm-maps.
        ulong stride = ((ulong)query.Width * 4 + 63) & ~63UL;
        var requirements = new CrossDomainImageRequirements
        {
            Modifier = 0, // DRM_FORMAT_MOD_LINEAR
            SizeBytes = (stride * query.Height + 4095) & ~4095UL,
            BlobId = _registered.NextId(),
            MapInfo = 1, // VIRTIO_GPU_MAP_CACHE_CACHED
            MemoryIdx = -1,
            PhysicalDeviceIdx = -1,
        };
        requirements.Strides[0] = (uint)stride;
        var message = new byte[CrossDomainImageRequirements.Size];
        CrossDomainRingWriter.WriteImageRequirements(message, in requirements);
        return _host.WriteRing(Id, _queryRing, message);
    }

    private string? Poll(ref int polls)
    {
        if (!_initialized)
            return "POLL before INIT";
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

    private static bool IsFourBytesPerPixel(uint fourcc) =>
        fourcc is 0x34325241 or 0x34325258 or 0x34324241 or 0x34324258; // AR24, XR24, AB24, XB24
}
