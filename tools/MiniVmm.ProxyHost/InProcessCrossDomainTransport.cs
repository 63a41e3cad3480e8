using MiniVmm.CrossDomain;
using MiniVmm.Gpu;
using MiniVmm.Gpu.Protocol;
using MiniVmm.GuestProxy;
using MiniVmm.Memory;
using MiniVmm.TestSupport;
using MiniVmm.Wayland;

namespace MiniVmm.ProxyHost;

/// <summary>
/// A cross-domain context on MiniVmm's own device model (<see cref="InProcessGpu"/>), driven the way the Linux
/// virtio_gpu driver drives it. Each client gets its own device (one context each), so clients never share queue
/// state. Host runs and tests use it; in a guest the DRM transport replaces it.
/// </summary>
/// <param name="sockets">The compositors the device model reaches, by channel (as MiniVmm's --wayland-socket gives them).</param>
/// <param name="channelType">The channel INIT asks for: 1 the unnamed socket, 20..31 a named one.</param>
public sealed class InProcessCrossDomainTransport(CompositorSockets sockets, uint channelType, Action<string>? log = null) : ICrossDomainTransport
{
    private const uint ContextId = 1, QueryRingId = 1, ChannelRingId = 2;
    private const ulong PageSize = 4096;

    private readonly Lock _mapLock = new();
    private InProcessGpu? _gpu;
    private ulong _channelRing;
    private ulong _nextFence;
    private MockChain? _poll; // the outstanding POLL, if any
    private int _nextResource = 100;

    /// <summary>Resources the device holds for this client (its two rings and the live blobs), for tests and diagnostics.</summary>
    public int ResourceCount => _gpu?.Device.Backend.ResourceCount ?? 0;

    /// <summary>Host memory the device holds for this client (its HOST3D blobs' memfds), for tests and diagnostics.</summary>
    public long HostBytes => _gpu?.Device.Backend.HostBytes ?? 0;

    public void Connect()
    {
        _gpu = new InProcessGpu(sockets, log);
        var create = new VirtioGpuCtxCreate { Hdr = Hdr(VirtioGpuCtrlType.CMD_CTX_CREATE), Nlen = 5, ContextInit = VirtioGpuConstants.VIRTIO_GPU_CAPSET_CROSS_DOMAIN };
        "proxy"u8.CopyTo(create.DebugName);
        Check(Submit(CrossDomainWire.Bytes(create)), "CTX_CREATE(capset 5)");
        CreateRing(QueryRingId, InProcessGpu.GuestPagesStart);
        _channelRing = InProcessGpu.GuestPagesStart + PageSize;
        CreateRing(ChannelRingId, _channelRing);
        Submit3D(CrossDomainWire.Init(QueryRingId, ChannelRingId, channelType), "INIT");
    }
    public void Send(ReadOnlySpan<byte> data, ReadOnlySpan<CrossDomainIdentifier> identifiers) =>
        Submit3D(CrossDomainWire.Send(data, identifiers), "SEND");

    public void Write(uint pipeId, ReadOnlySpan<byte> data, bool hangUp) =>
        Submit3D(CrossDomainWire.Write(pipeId, data, hangUp), "WRITE");

    public CrossDomainReceived? Receive(TimeSpan timeout)
    {
        if (_poll is null)
        {
            var command = new VirtioGpuCmdSubmit { Hdr = Hdr(VirtioGpuCtrlType.CMD_SUBMIT_3D), Size = CrossDomainPoll.Size };
            command.Hdr.Flags = VirtioGpuConstants.VIRTIO_GPU_FLAG_FENCE | VirtioGpuConstants.VIRTIO_GPU_FLAG_INFO_RING_IDX;
            command.Hdr.FenceId = ++_nextFence;
            command.Hdr.RingIdx = 1; // the channel ring's timeline: the host holds this fence until it writes a message
            _poll = _gpu!.Start(CrossDomainWire.Bytes(command), CrossDomainWire.Poll(), 24);
        }
        if (!_gpu!.WaitFor(_poll, timeout))
            return null;
        var response = _gpu.Finish(_poll);
        _poll = null;
        if (response.Type != (uint)VirtioGpuCtrlType.RESP_OK_NODATA)
            throw new InvalidOperationException($"POLL failed: 0x{response.Type:x}");
        // The ring's page as it is in guest memory, as a guest proxy reads its mapping: no copy of the page first.
        if (_gpu.Memory.TryGetSpan(new GuestAddress(_channelRing), PageSize, out var ring) != GuestMemoryError.None)
            throw new InvalidOperationException("the channel ring is outside guest memory");
        return CrossDomainWire.ParseRing(ring);
    }

    public Fd OpenHostBlob(uint blobId, ulong size)
    {
        var id = (uint)Interlocked.Increment(ref _nextResource); // the receive thread and the send thread both create
        CreateHost3D(id, blobId, (size + PageSize - 1) & ~(PageSize - 1)); // a keymap's size rarely is whole pages
        // The resource is dropped at once: the client's fd alone keeps the pages alive, as a PRIME export would.
        var fd = MemfdOf(id, blobId);
        Check(Submit(CrossDomainWire.Bytes(new VirtioGpuResourceUnref { Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_UNREF), ResourceId = id })), "UNREF");
        return fd;
    }

    public ImageRequirements GetImageRequirements(uint width, uint height, uint drmFormat)
    {
        var ring = new GuestAddress(InProcessGpu.GuestPagesStart); // the query ring's page
        _gpu!.Memory.Write(ring, new byte[CrossDomainImageRequirements.Size]);
        var command = new VirtioGpuCmdSubmit { Hdr = Hdr(VirtioGpuCtrlType.CMD_SUBMIT_3D), Size = CrossDomainGetImageRequirements.Size };
        // Refused (an unknown format) shows as an error answer here, and as an untouched ring either way.
        _ = Submit(CrossDomainWire.Bytes(command), extra: CrossDomainWire.GetImageRequirements(width, height, drmFormat));
        var answer = new byte[CrossDomainImageRequirements.Size];
        _gpu.Memory.Read(ring, answer);
        return CrossDomainWire.ParseImageRequirements(answer, width, height, drmFormat);
    }

    public HostBlob CreateHostBlob(ImageRequirements image)
    {
        var id = (uint)Interlocked.Increment(ref _nextResource);
        CreateHost3D(id, image.BlobId, image.Size);
        return new HostBlob(id, id, MemfdOf(id, image.BlobId), image.Size);
    }

    public void DestroyHostBlob(HostBlob blob) =>
        Check(Submit(CrossDomainWire.Bytes(new VirtioGpuResourceUnref { Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_UNREF), ResourceId = blob.ResourceId })), "UNREF");

    /// <summary>
    /// RESOURCE_CREATE_BLOB(HOST3D) of exactly <paramref name="size"/> bytes: an image's is the host's answer (crosvm
    /// wants it unchanged), a compositor fd's is rounded up to whole pages by the caller, as Linux's driver does.
    /// </summary>
    private void CreateHost3D(uint id, uint blobId, ulong size) =>
        Check(Submit(CrossDomainWire.Bytes(new VirtioGpuResourceCreateBlob
        {
            Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_CREATE_BLOB),
            ResourceId = id,
            BlobMem = VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_HOST3D,
            BlobFlags = VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE | VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE,
            BlobId = blobId,
            Size = size,
        })), $"RESOURCE_CREATE_BLOB(HOST3D, blob_id {blobId})");

    /// <summary>
    /// Mapping is how the pages become reachable: the region keeps a dup of the memfd, then the mapping is dropped.
    /// Serialised, because the region only remembers the last map and both session threads may be here at once.
    /// </summary>
    private Fd MemfdOf(uint id, uint blobId)
    {
        lock (_mapLock)
        {
            var map = Submit(CrossDomainWire.Bytes(new VirtioGpuResourceMapBlob { Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_MAP_BLOB), ResourceId = id }), 32);
            if (map.Type != (uint)VirtioGpuCtrlType.RESP_OK_MAP_INFO)
                throw new InvalidOperationException($"RESOURCE_MAP_BLOB of blob_id {blobId} failed: 0x{map.Type:x}");
            using var memfd = _gpu!.Region.TakeLastMapped();
            Check(Submit(CrossDomainWire.Bytes(new VirtioGpuResourceUnmapBlob { Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_UNMAP_BLOB), ResourceId = id })), "UNMAP_BLOB");
            var fd = new Fd((int)memfd.DangerousGetHandle());
            memfd.SetHandleAsInvalid(); // ownership moves to the Fd
            return fd;
        }
    }

    public void Dispose()
    {
        _gpu?.Dispose();
    }

    private void CreateRing(uint id, ulong address)
    {
        var entry = CrossDomainWire.Bytes(new VirtioGpuMemEntry { Addr = address, Length = 4096 });
        Check(Submit(CrossDomainWire.Bytes(new VirtioGpuResourceCreateBlob
        {
            Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_CREATE_BLOB, ctxId: 0), // Linux creates guest blobs outside any context
            ResourceId = id,
            BlobMem = VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_GUEST,
            BlobFlags = VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE,
            NrEntries = 1,
            Size = 4096,
        }), extra: entry), $"ring blob {id}");
        Check(Submit(CrossDomainWire.Bytes(new VirtioGpuCtxResource { Hdr = Hdr(VirtioGpuCtrlType.CMD_CTX_ATTACH_RESOURCE), ResourceId = id })), $"attach ring {id}");
    }

    private void Submit3D(byte[] stream, string what)
    {
        var command = new VirtioGpuCmdSubmit { Hdr = Hdr(VirtioGpuCtrlType.CMD_SUBMIT_3D), Size = (uint)stream.Length };
        Check(Submit(CrossDomainWire.Bytes(command), extra: stream), what);
    }

    private static VirtioGpuCtrlHdr Hdr(VirtioGpuCtrlType type, uint ctxId = ContextId) => new() { Type = (uint)type, CtxId = ctxId };

    private static void Check(VirtioGpuCtrlHdr response, string what)
    {
        if (response.Type != (uint)VirtioGpuCtrlType.RESP_OK_NODATA)
            throw new InvalidOperationException($"{what} failed: response 0x{response.Type:x}");
    }

    private VirtioGpuCtrlHdr Submit(byte[] command, int responseSize = 24, byte[]? extra = null) => _gpu!.Submit(command, responseSize, extra);
}
