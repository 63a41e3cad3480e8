using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Gpu.Protocol;

namespace MiniVmm.Gpu.Backend;

/// <summary>Capsets and contexts (GET_CAPSET_INFO, GET_CAPSET, CTX_CREATE/DESTROY/ATTACH/DETACH, SUBMIT_3D).</summary>
public sealed partial class Gpu2DBackend
{
    /// <summary>Most live contexts: Linux makes one per open DRM file, so this bounds what a guest can make us hold.</summary>
    public const int MaxContexts = 1024;

    /// <summary>Size of CrossDomainCapabilities (reference §2.1).</summary>
    public const uint CrossDomainCapabilitiesSize = 16;

    /// <summary>CrossDomainCapabilities.version 1: every command up to CROSS_DOMAIN_CMD_WRITE.</summary>
    public const uint CrossDomainVersion = 1;

    private readonly Dictionary<uint, GpuContext> _contexts = []; // guarded by _lock

    /// <summary>num_capsets in the config space: the cross-domain capset when contexts are offered.</summary>
    public int CapsetCount => _options.Contexts ? 1 : 0;

    public int ContextCount
    {
        get
        {
            lock (_lock)
                return _contexts.Count;
        }
    }

    /// <summary>GET_CAPSET_INFO: index 0 is cross-domain {id 5, max_version 0, max_size 16}.</summary>
    public GpuResponse GetCapsetInfo(uint index)
    {
        if (index >= CapsetCount)
            return GpuResponse.ErrInvalidParameter($"capset index {index}, the device has {CapsetCount}");
        var info = new VirtioGpuRespCapsetInfo
        {
            CapsetId = VirtioGpuConstants.VIRTIO_GPU_CAPSET_CROSS_DOMAIN,
            CapsetMaxVersion = 0,
            CapsetMaxSize = CrossDomainCapabilitiesSize,
        };
        return GpuResponse.WithStruct(VirtioGpuCtrlType.RESP_OK_CAPSET_INFO, in info);
    }

    /// <summary>GET_CAPSET: the 16-byte CrossDomainCapabilities (a bit per configured socket, no dmabuf, no external memory).</summary>
    public GpuResponse GetCapset(uint capsetId, uint version)
    {
        if (CapsetCount == 0 || capsetId != VirtioGpuConstants.VIRTIO_GPU_CAPSET_CROSS_DOMAIN)
            return GpuResponse.ErrInvalidParameter($"no capset {capsetId}");
        if (version != 0)
            return GpuResponse.ErrInvalidParameter($"capset {capsetId} has only version 0, not {version}");
        var body = new byte[CrossDomainCapabilitiesSize];
        BitConverter.TryWriteBytes(body.AsSpan(0, 4), CrossDomainVersion);
        BitConverter.TryWriteBytes(body.AsSpan(4, 4), _options.WaylandSockets.SupportedChannels);
        // supports_dmabuf and supports_external_gpu_memory stay 0: blobs are plain memfds.
        return new GpuResponse(VirtioGpuCtrlType.RESP_OK_CAPSET, body);
    }

    /// <summary>
    /// CTX_CREATE. A duplicate id answers ERR_INVALID_CONTEXT_ID, as rutabaga does (crosvm and QEMU-rutabaga
    /// both pass that error through); context_init's low byte must be 0 (default) or 5 (cross-domain).
    /// </summary>
    public GpuResponse CreateContext(uint ctxId, uint contextInit, string debugName)
    {
        if (ctxId == 0)
            return GpuResponse.Err(VirtioGpuCtrlType.RESP_ERR_INVALID_CONTEXT_ID, "context id 0 is reserved");
        uint capset = contextInit & VirtioGpuConstants.VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK;
        if (capset != 0 && capset != VirtioGpuConstants.VIRTIO_GPU_CAPSET_CROSS_DOMAIN)
            return GpuResponse.ErrInvalidParameter($"context_init 0x{contextInit:x} names capset {capset}, the device has only 5 (cross-domain)");
        lock (_lock)
        {
            if (_contexts.ContainsKey(ctxId))
                return GpuResponse.Err(VirtioGpuCtrlType.RESP_ERR_INVALID_CONTEXT_ID, $"context {ctxId} already exists");
            if (_contexts.Count >= MaxContexts)
                return GpuResponse.ErrOutOfMemory($"{MaxContexts} contexts already exist");
            if (Budget.TryCharge($"context {ctxId}", HostBudget.PerObjectBytes, objects: 1) is { } refused)
                return refused;
            var crossDomain = capset == VirtioGpuConstants.VIRTIO_GPU_CAPSET_CROSS_DOMAIN
                ? new CrossDomainContext(ctxId, this, _options.WaylandSockets, CrossDomainLoop, _onCrossDomainReadable, _options.CrossDomainTrace)
                : null;
            _contexts.Add(ctxId, new GpuContext(ctxId, capset, debugName, crossDomain));
            return GpuResponse.OkNoData;
        }
    }

    /// <summary>CTX_DESTROY.</summary>
    public GpuResponse DestroyContext(uint ctxId)
    {
        lock (_lock)
        {
            if (!_contexts.Remove(ctxId, out var context))
                return GpuResponse.Err(VirtioGpuCtrlType.RESP_ERR_INVALID_CONTEXT_ID, $"no context {ctxId}");
            // Socket, pipes and parked compositor fds go now; the device completes the context's deferred fences.
            context.CrossDomain?.Dispose();
            Budget.Release(HostBudget.PerObjectBytes, objects: 1);
            return GpuResponse.OkNoData;
        }
    }

    /// <summary>
    /// CTX_ATTACH_RESOURCE / CTX_DETACH_RESOURCE. An unknown context is accepted and ignored (reference §4.4: Linux's
    /// fbdev client and early GEM handles attach to contexts that may not exist here); an unknown resource is an
    /// error on attach only, since detach after unref is ordinary teardown.
    /// </summary>
    public GpuResponse AttachToContext(uint ctxId, uint resourceId, bool attach)
    {
        lock (_lock)
        {
            if (!_contexts.TryGetValue(ctxId, out var context))
                return GpuResponse.OkNoData;
            if (!attach)
            {
                context.Resources.Remove(resourceId);
                return GpuResponse.OkNoData;
            }
            if (!_resources.ContainsKey(resourceId) && !_blobs.ContainsKey(resourceId))
                return GpuResponse.ErrInvalidResourceId(resourceId);
            context.Resources.Add(resourceId);
            return GpuResponse.OkNoData;
        }
    }

    /// <summary>Whether <paramref name="ctxId"/> exists (HOST3D blobs must name one).</summary>
    private bool HasContextLocked(uint ctxId) => _contexts.ContainsKey(ctxId);

    private void ForgetInContextsLocked(uint resourceId)
    {
        foreach (var context in _contexts.Values)
            context.Resources.Remove(resourceId);
    }
}
