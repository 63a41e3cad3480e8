using MiniVmm.CrossDomain;
using MiniVmm.Gpu;
using MiniVmm.Gpu.Protocol;
using MiniVmm.GuestProxy.Drm;
using MiniVmm.ProxyHost;
using static Tmds.Linux.LibC;

namespace MiniVmm.GuestProxy.Tests.Drm;

/// <summary>
/// A model of one open file of Linux 6.1's virtio_gpu DRM driver (drivers/gpu/drm/virtio), over MiniVmm's real
/// device model (<see cref="InProcessGpu"/>): the ioctls the proxy's DRM transport makes are checked and answered as
/// the kernel does (same -errno for the same mistakes), and turned into the virtio-gpu commands the kernel would
/// queue. What the model leaves out answers EOPNOTSUPP rather than pretending. Like the kernel, an ioctl succeeds
/// even when the device later answers a command with an error; such answers are kept in <see cref="DeviceErrors"/>.
/// </summary>
internal sealed unsafe partial class FakeVirtioGpuDrm : IDrmFile
{
    public const string DevicePath = "/dev/dri/card0";
    private const int MaxCapsetId = 63, MaxRings = 64, MaxContextParams = 3;
    private const uint ContextId = 1; // the driver numbers contexts per open file from 1

    private readonly Lock _lock = new();
    private readonly InProcessGpu _gpu;
    private readonly ulong _capsetMask; // the capsets the device listed at probe, by id
    private readonly bool _hasVirgl, _hasBlob, _hasContextInit, _hasResourceUuid;
    private bool _open;
    private bool _contextCreated;
    private uint _contextInit; // the capset id CONTEXT_INIT chose (0: none, as for a context made lazily)
    private bool _ringsSet; // NUM_RINGS was given (the kernel's base_fence_ctx)
    private uint _numRings;
    private ulong _pollRingsMask;

    /// <summary>"Probes" the device: the features it offers and the capsets it lists (GET_CAPSET_INFO for each).</summary>
    public FakeVirtioGpuDrm(CompositorSockets sockets, Action<string>? log = null)
    {
        _gpu = new InProcessGpu(sockets, log);
        var features = _gpu.Device.NegotiatedFeatures;
        _hasVirgl = (features & (1UL << VirtioGpuConstants.VIRTIO_GPU_F_VIRGL)) != 0;
        _hasBlob = (features & (1UL << VirtioGpuConstants.VIRTIO_GPU_F_RESOURCE_BLOB)) != 0;
        _hasContextInit = (features & (1UL << VirtioGpuConstants.VIRTIO_GPU_F_CONTEXT_INIT)) != 0;
        _hasResourceUuid = (features & (1UL << VirtioGpuConstants.VIRTIO_GPU_F_RESOURCE_UUID)) != 0;
        Span<byte> numCapsets = stackalloc byte[4];
        _gpu.Device.ReadConfig(12, numCapsets); // virtio_gpu_config.num_capsets
        for (uint index = 0; index < BitConverter.ToUInt32(numCapsets); index++)
        {
            var info = _gpu.Submit<VirtioGpuRespCapsetInfo>(CrossDomainWire.Bytes(new VirtioGpuGetCapsetInfo { Hdr = Header(VirtioGpuCtrlType.CMD_GET_CAPSET_INFO, 0), CapsetIndex = index }));
            if (info.Hdr.Type == (uint)VirtioGpuCtrlType.RESP_OK_CAPSET_INFO && info.CapsetId <= MaxCapsetId)
                _capsetMask |= 1UL << (int)info.CapsetId;
        }
    }

    /// <summary>Error answers of the device to commands the model queued (the kernel only logs them).</summary>
    public List<string> DeviceErrors { get; } = [];

    /// <summary>Every command queued, as "TYPE resource" (resource 0 where none), for tests of what the driver sends.</summary>
    public List<string> Sent { get; } = [];

    /// <summary>Resources the device holds (rings, blobs), to see what GEM_CLOSE and exports keep alive.</summary>
    public int DeviceResources => _gpu.Device.Backend.ResourceCount;

    /// <summary>Host memory the device holds for this file (HOST3D blobs' memfds).</summary>
    public long HostBytes => _gpu.Device.Backend.HostBytes;

    public int Open(string path)
    {
        lock (_lock)
        {
            if (path != DevicePath)
                return -ENOENT;
            _open = true;
            return 0;
        }
    }

    public int Ioctl(ulong request, void* argument)
    {
        if (request == VirtGpuDrm.Wait)
            return Wait((DrmVirtGpuWait*)argument); // sleeps, so not under the lock
        lock (_lock)
        {
            if (!_open)
                return -EBADF;
            ProcessCompletions();
            if (request == VirtGpuDrm.ContextInit)
                return ContextInit((DrmVirtGpuContextInit*)argument);
            if (request == VirtGpuDrm.ResourceCreateBlob)
                return CreateBlob((DrmVirtGpuResourceCreateBlob*)argument);
            if (request == VirtGpuDrm.Map)
                return MapOffset((DrmVirtGpuMap*)argument);
            if (request == VirtGpuDrm.ExecBuffer)
                return ExecBuffer((DrmVirtGpuExecBuffer*)argument);
            if (request == VirtGpuDrm.PrimeHandleToFd)
                return PrimeHandleToFd((DrmPrimeHandle*)argument);
            if (request == VirtGpuDrm.GemClose)
                return GemClose(((DrmGemClose*)argument)->Handle);
            return -EINVAL; // drm_ioctl's answer to a number it does not know; the model knows only these
        }
    }

    /// <summary>Closing the file: every handle goes as by GEM_CLOSE, then the context is destroyed; then the device.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var handle in _handles.Keys.ToArray())
                GemClose(handle);
            if (_contextCreated)
                Queue(CrossDomainWire.Bytes(new VirtioGpuCtxDestroy { Hdr = Header(VirtioGpuCtrlType.CMD_CTX_DESTROY) }), 0);
            foreach (var exported in _exported)
                exported.Memfd?.Dispose();
            _open = false;
        }
        _gpu.Dispose();
    }

    /// <summary>virtio_gpu_context_init_ioctl: each parameter at most once, capsets the device listed, polled rings that exist.</summary>
    private int ContextInit(DrmVirtGpuContextInit* init)
    {
        if (!_hasContextInit || !_hasVirgl || init->NumParams > MaxContextParams)
            return -EINVAL;
        if (_contextCreated)
            return -EEXIST;
        // Like the kernel, parameters applied before a bad one stay applied.
        var parameters = (DrmVirtGpuContextSetParam*)init->CtxSetParams;
        for (var i = 0; i < init->NumParams; i++)
        {
            var value = parameters[i].Value;
            switch (parameters[i].Param)
            {
                case VirtGpuDrm.ParamCapsetId:
                    if (value > MaxCapsetId || (_capsetMask & (1UL << (int)value)) == 0 || (_contextInit & VirtioGpuConstants.VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK) != 0)
                        return -EINVAL;
                    _contextInit |= (uint)value;
                    break;
                case VirtGpuDrm.ParamNumRings:
                    if (_ringsSet || value > MaxRings)
                        return -EINVAL;
                    _ringsSet = true;
                    _numRings = (uint)value;
                    break;
                case VirtGpuDrm.ParamPollRingsMask:
                    if (_pollRingsMask != 0)
                        return -EINVAL;
                    _pollRingsMask = value;
                    break;
                default:
                    return -EINVAL;
            }
        }
        var validRings = _numRings >= 64 ? ulong.MaxValue : (1UL << (int)_numRings) - 1;
        if ((_pollRingsMask & ~validRings) != 0)
            return -EINVAL;
        CreateContext();
        return 0;
    }

    /// <summary>virtio_gpu_create_context: CTX_CREATE once per file, named after the task, with CONTEXT_INIT's capset.</summary>
    private void CreateContext()
    {
        if (_contextCreated)
            return;
        var name = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessPath is { } path ? Path.GetFileName(path) : "dotnet");
        var create = new VirtioGpuCtxCreate { Hdr = Header(VirtioGpuCtrlType.CMD_CTX_CREATE), Nlen = (uint)Math.Min(name.Length, 15), ContextInit = _contextInit };
        name.AsSpan(0, (int)create.Nlen).CopyTo(create.DebugName);
        Queue(CrossDomainWire.Bytes(create), 0);
        _contextCreated = true;
    }

    /// <summary>A command the device answers at once; an error answer is recorded, not returned (the kernel logs it).</summary>
    private VirtioGpuCtrlHdr Queue(byte[] command, uint resource, byte[]? extra = null, int responseSize = 24)
    {
        var type = (VirtioGpuCtrlType)BitConverter.ToUInt32(command);
        Sent.Add($"{type} {resource}");
        var response = _gpu.Submit(command, responseSize, extra);
        if (response.Type >= (uint)VirtioGpuCtrlType.RESP_ERR_UNSPEC)
            DeviceErrors.Add($"{type} of resource {resource}: 0x{response.Type:x}");
        return response;
    }

    private static VirtioGpuCtrlHdr Header(VirtioGpuCtrlType type, uint ctxId = ContextId) => new() { Type = (uint)type, CtxId = ctxId };
}
