using MiniVmm.CrossDomain;
using MiniVmm.Wayland;

namespace MiniVmm.GuestProxy.Drm;

/// <summary>
/// The guest transport: the virtio_gpu DRM device (/dev/dri/card0), the flow of reference §3. CONTEXT_INIT with
/// capset 5, two rings (query, channel) polled on ring 1; two GUEST ring blobs, both mapped into this process; INIT,
/// GET_IMAGE_REQUIREMENTS, SEND, WRITE and POLL as EXECBUFFERs (POLL on ring 1; the others on ring 0, from any
/// thread); a fence event read from the DRM fd means the channel ring holds a message, and VIRTGPU_WAIT on the query
/// ring's handle that the query ring holds its answer. Every wait sleeps in the kernel (poll(2), VIRTGPU_WAIT). One
/// instance per client, like a context.
/// Its system calls go through <see cref="IDrmFile"/>: in a guest, the real /dev/dri/card0 (the guest end-to-end test,
/// tests/MiniVmm.Integration.Tests/GuestWaylandTests.cs, runs it on the small kernel's virtio_gpu driver); in the fast
/// tests, a model of Linux 6.1's virtio_gpu driver on MiniVmm's device model (FakeVirtioGpuDrm), alone and under the
/// whole proxy with real Wayland clients.
/// </summary>
public sealed unsafe class DrmCrossDomainTransport : ICrossDomainTransport
{
    private const int RingSize = 4096;
    private readonly IDrmFile _drm;
    private readonly string _devicePath;
    private readonly uint _channelType;
    private byte* _channelRing, _queryRing;
    private uint _queryRingHandle;
    private bool _pollOutstanding;

    public DrmCrossDomainTransport(string devicePath = "/dev/dri/card0", uint channelType = CrossDomainConstants.ChannelTypeWayland)
        : this(new LinuxDrmFile(), devicePath, channelType)
    {
    }

    /// <summary>Over another <see cref="IDrmFile"/>: tests give a model of the kernel driver.</summary>
    internal DrmCrossDomainTransport(IDrmFile drm, string devicePath, uint channelType)
    {
        _drm = drm;
        _devicePath = devicePath;
        _channelType = channelType;
    }

    public void Connect()
    {
        var opened = _drm.Open(_devicePath);
        if (opened < 0)
            throw new InvalidOperationException($"open {_devicePath}: errno {-opened}");
        var parameters = stackalloc DrmVirtGpuContextSetParam[3];
        parameters[0] = new() { Param = VirtGpuDrm.ParamCapsetId, Value = CrossDomainConstants.CapsetId };
        parameters[1] = new() { Param = VirtGpuDrm.ParamNumRings, Value = 2 };
        parameters[2] = new() { Param = VirtGpuDrm.ParamPollRingsMask, Value = 1UL << 1 };
        var init = new DrmVirtGpuContextInit { NumParams = 3, CtxSetParams = (ulong)parameters };
        Ioctl(VirtGpuDrm.ContextInit, &init, "CONTEXT_INIT(capset 5)");
        // The query ring holds GET_IMAGE_REQUIREMENTS answers (one per wl_buffer); the channel ring POLL's messages.
        var (queryRes, queryHandle, queryRing) = CreateRing();
        _queryRingHandle = queryHandle;
        _queryRing = (byte*)queryRing;
        var (channelRes, _, channelRing) = CreateRing();
        _channelRing = (byte*)channelRing;
        Execute(CrossDomainWire.Init(queryRes, channelRes, _channelType), ring: 0);
    }

    public void Send(ReadOnlySpan<byte> data, ReadOnlySpan<CrossDomainIdentifier> identifiers) =>
        Execute(CrossDomainWire.Send(data, identifiers), ring: 0);

    public void Write(uint pipeId, ReadOnlySpan<byte> data, bool hangUp) =>
        Execute(CrossDomainWire.Write(pipeId, data, hangUp), ring: 0);

    public CrossDomainReceived? Receive(TimeSpan timeout)
    {
        if (!_pollOutstanding)
        {
            Execute(CrossDomainWire.Poll(), ring: 1);
            _pollOutstanding = true;
        }
        if (_drm.WaitForEvent((int)timeout.TotalMilliseconds) <= 0)
            return null;
        var events = stackalloc byte[64];
        var length = _drm.Read(events, 64);
        // drm_event {u32 type; u32 length}: only fence events on ring 1 are enabled, so one means "message ready".
        if (length < 8 || *(uint*)events != VirtGpuDrm.EventFenceSignaled)
            throw new InvalidOperationException("unexpected DRM event");
        _pollOutstanding = false;
        return CrossDomainWire.ParseRing(new ReadOnlySpan<byte>(_channelRing, RingSize));
    }

    public Fd OpenHostBlob(uint blobId, ulong size)
    {
        var blob = new DrmVirtGpuResourceCreateBlob
        {
            BlobMem = VirtGpuDrm.BlobMemHost3d,
            BlobFlags = VirtGpuDrm.BlobFlagMappable | VirtGpuDrm.BlobFlagShareable,
            Size = size,
            BlobId = blobId,
        };
        Ioctl(VirtGpuDrm.ResourceCreateBlob, &blob, $"RESOURCE_CREATE_BLOB(HOST3D, {blobId})");
        // The client gets a dma-buf of the blob (mmap-able); the GEM handle is dropped, the export keeps the blob.
        var prime = new DrmPrimeHandle { Handle = blob.BoHandle, Flags = VirtGpuDrm.DrmCloexec | VirtGpuDrm.DrmRdwr, Fd = -1 };
        Ioctl(VirtGpuDrm.PrimeHandleToFd, &prime, "PRIME_HANDLE_TO_FD");
        var close = new DrmGemClose { Handle = blob.BoHandle };
        Ioctl(VirtGpuDrm.GemClose, &close, "GEM_CLOSE");
        return new Fd(prime.Fd);
    }

    /// <summary>
    /// As sommelier's image query: the command goes on ring 0 (the query ring's timeline) with the query ring's GEM
    /// handle in the EXECBUFFER, so the fence is attached to that buffer, and VIRTGPU_WAIT on the handle sleeps in the
    /// kernel until the host has answered.
    /// </summary>
    public ImageRequirements GetImageRequirements(uint width, uint height, uint drmFormat)
    {
        new Span<byte>(_queryRing, CrossDomainImageRequirements.Size).Clear();
        Execute(CrossDomainWire.GetImageRequirements(width, height, drmFormat), ring: 0, _queryRingHandle);
        var wait = new DrmVirtGpuWait { Handle = _queryRingHandle };
        int result;
        do
            result = _drm.Ioctl(VirtGpuDrm.Wait, &wait);
        while (result == -VirtGpuDrm.Ebusy); // the kernel gives up after 15 s with EBUSY; the host answers at once
        if (result < 0)
            throw new InvalidOperationException($"VIRTGPU_WAIT on the query ring: errno {-result}");
        return CrossDomainWire.ParseImageRequirements(new ReadOnlySpan<byte>(_queryRing, CrossDomainImageRequirements.Size), width, height, drmFormat);
    }

    public HostBlob CreateHostBlob(ImageRequirements image)
    {
        // The query's blob_id and size, as crosvm requires. The GEM handle is kept so the SEND can name res_handle and
        // DestroyHostBlob can close it; the dma-buf is what the proxy mmaps.
        var blob = new DrmVirtGpuResourceCreateBlob
        {
            BlobMem = VirtGpuDrm.BlobMemHost3d,
            BlobFlags = VirtGpuDrm.BlobFlagMappable | VirtGpuDrm.BlobFlagShareable,
            Size = image.Size,
            BlobId = image.BlobId,
        };
        Ioctl(VirtGpuDrm.ResourceCreateBlob, &blob, $"RESOURCE_CREATE_BLOB(HOST3D, blob_id {image.BlobId}) for a wl_buffer");
        var prime = new DrmPrimeHandle { Handle = blob.BoHandle, Flags = VirtGpuDrm.DrmCloexec | VirtGpuDrm.DrmRdwr, Fd = -1 };
        Ioctl(VirtGpuDrm.PrimeHandleToFd, &prime, "PRIME_HANDLE_TO_FD");
        return new HostBlob(blob.ResHandle, blob.BoHandle, new Fd(prime.Fd), image.Size);
    }

    public void DestroyHostBlob(HostBlob blob)
    {
        var close = new DrmGemClose { Handle = blob.Handle };
        Ioctl(VirtGpuDrm.GemClose, &close, "GEM_CLOSE");
    }

    public void Dispose()
    {
        if (_channelRing != null)
            _drm.Unmap(_channelRing, RingSize);
        if (_queryRing != null)
            _drm.Unmap(_queryRing, RingSize);
        _drm.Dispose(); // closing the DRM file destroys the context and its blobs
    }

    private (uint ResHandle, uint BoHandle, nint Mapping) CreateRing()
    {
        var blob = new DrmVirtGpuResourceCreateBlob { BlobMem = VirtGpuDrm.BlobMemGuest, BlobFlags = VirtGpuDrm.BlobFlagMappable, Size = RingSize };
        Ioctl(VirtGpuDrm.ResourceCreateBlob, &blob, "ring RESOURCE_CREATE_BLOB");
        var offset = new DrmVirtGpuMap { Handle = blob.BoHandle };
        Ioctl(VirtGpuDrm.Map, &offset, "MAP");
        var mapping = _drm.Map(offset.Offset, RingSize, out var error);
        if (mapping == null)
            throw new InvalidOperationException($"mmap of a ring: errno {-error}");
        return (blob.ResHandle, blob.BoHandle, (nint)mapping);
    }

    /// <summary>One EXECBUFFER on <paramref name="ring"/>; a <paramref name="boHandle"/> gets the submission's fence (for VIRTGPU_WAIT).</summary>
    private void Execute(byte[] commands, uint ring, uint boHandle = 0)
    {
        fixed (byte* bytes = commands)
        {
            var exec = new DrmVirtGpuExecBuffer { Flags = VirtGpuDrm.ExecbufRingIdx, Size = (uint)commands.Length, Command = (ulong)bytes, FenceFd = -1, RingIdx = ring };
            if (boHandle != 0)
            {
                exec.BoHandles = (ulong)&boHandle;
                exec.NumBoHandles = 1;
            }
            Ioctl(VirtGpuDrm.ExecBuffer, &exec, "EXECBUFFER");
        }
    }

    private void Ioctl(ulong request, void* argument, string what)
    {
        var result = _drm.Ioctl(request, argument);
        if (result < 0)
            throw new InvalidOperationException($"{what}: errno {-result}");
    }
}
