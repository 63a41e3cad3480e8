using System.Diagnostics.CodeAnalysis;
using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Virtio;

namespace MiniVmm.Gpu.Backend;

/// <summary>
/// The rendering contexts by id (CTX_CREATE/DESTROY, CTX_ATTACH/DETACH_RESOURCE) and the capset they are made from
/// (GET_CAPSET_INFO, GET_CAPSET). A cross-domain context owns its compositor channel and drives it under its own
/// lock; this table only hands contexts out, and a removed context is disposed by the caller after the lock.
/// Not thread-safe: <see cref="VirtioGpuBackend"/> calls it with the resource lock held.
/// </summary>
internal sealed class ContextTable(GpuOptions options, HostBudget budget, CrossDomainLedger ledger)
{
    /// <summary>Size of CrossDomainCapabilities (reference §2.1).</summary>
    public const uint CrossDomainCapabilitiesSize = 16;

    /// <summary>CrossDomainCapabilities.version 1: every command up to CROSS_DOMAIN_CMD_WRITE.</summary>
    public const uint CrossDomainVersion = 1;

    private readonly Dictionary<uint, GpuContext> _contexts = [];
    private EventLoop? _crossDomainLoop; // made on first use unless the device gave one
    private Action<CrossDomainContext>? _onCrossDomainReadable;

    /// <summary>num_capsets in the config space: the cross-domain capset when contexts are offered.</summary>
    public int CapsetCount => options.Contexts ? 1 : 0;

    public int Count => _contexts.Count;

    public bool Contains(uint ctxId) => _contexts.ContainsKey(ctxId);

    public bool TryGet(uint ctxId, [MaybeNullWhen(false)] out GpuContext context) => _contexts.TryGetValue(ctxId, out context);

    /// <summary>Where cross-domain contexts watch their fds, and what runs on that loop's thread when one is ready.</summary>
    public void ConfigureCrossDomain(EventLoop? loop, Action<CrossDomainContext> onReadable)
    {
        _crossDomainLoop = loop;
        _onCrossDomainReadable = onReadable;
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
        BitConverter.TryWriteBytes(body.AsSpan(4, 4), options.WaylandSockets.SupportedChannels);
        // supports_dmabuf and supports_external_gpu_memory stay 0: blobs are plain memfds.
        return new GpuResponse(VirtioGpuCtrlType.RESP_OK_CAPSET, body);
    }

    /// <summary>
    /// CTX_CREATE. A duplicate id answers ERR_INVALID_CONTEXT_ID, as rutabaga does (crosvm and QEMU-rutabaga
    /// both pass that error through); context_init's low byte must be 0 (default) or 5 (cross-domain).
    /// <paramref name="host"/> is what a cross-domain context reaches the resources through.
    /// </summary>
    public GpuResponse Create(uint ctxId, uint contextInit, string debugName, ICrossDomainHost host)
    {
        if (ctxId == 0)
            return GpuResponse.Err(VirtioGpuCtrlType.RESP_ERR_INVALID_CONTEXT_ID, "context id 0 is reserved");
        uint capset = contextInit & VirtioGpuConstants.VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK;
        if (capset != 0 && capset != VirtioGpuConstants.VIRTIO_GPU_CAPSET_CROSS_DOMAIN)
            return GpuResponse.ErrInvalidParameter($"context_init 0x{contextInit:x} names capset {capset}, the device has only 5 (cross-domain)");
        if (_contexts.ContainsKey(ctxId))
            return GpuResponse.Err(VirtioGpuCtrlType.RESP_ERR_INVALID_CONTEXT_ID, $"context {ctxId} already exists");
        if (_contexts.Count >= VirtioGpuBackend.MaxContexts)
            return GpuResponse.ErrOutOfMemory($"{VirtioGpuBackend.MaxContexts} contexts already exist");
        if (budget.TryCharge($"context {ctxId}", HostBudget.PerObjectBytes, objects: 1) is { } refused)
            return refused;
        var crossDomain = capset == VirtioGpuConstants.VIRTIO_GPU_CAPSET_CROSS_DOMAIN
            ? new CrossDomainContext(ctxId, host, options.WaylandSockets, _crossDomainLoop ??= new EventLoop("minivmm-gpu-xd"),
                _onCrossDomainReadable ?? PumpWithoutDevice, ledger, options.CrossDomainTrace)
            : null;
        _contexts.Add(ctxId, new GpuContext(ctxId, capset, debugName, crossDomain));
        return GpuResponse.OkNoData;
    }

    /// <summary>CTX_DESTROY: the context leaves the table; the caller disposes its cross-domain state after the lock.</summary>
    public GpuContext? Remove(uint ctxId)
    {
        if (!_contexts.Remove(ctxId, out var context))
            return null;
        budget.Release(HostBudget.PerObjectBytes, objects: 1);
        return context;
    }

    /// <summary>Device reset: every context leaves; the caller disposes them after the lock and clears the budget.</summary>
    public GpuContext[] TakeAll()
    {
        var all = _contexts.Values.ToArray();
        _contexts.Clear();
        return all;
    }

    /// <summary>
    /// CTX_ATTACH_RESOURCE / CTX_DETACH_RESOURCE. An unknown context is accepted and ignored (reference §4.4: Linux's
    /// fbdev client and early GEM handles attach to contexts that may not exist here); an unknown resource is an
    /// error on attach only, since detach after unref is ordinary teardown.
    /// </summary>
    public GpuResponse Attach(uint ctxId, uint resourceId, bool attach, bool resourceExists)
    {
        if (!_contexts.TryGetValue(ctxId, out var context))
            return GpuResponse.OkNoData;
        if (!attach)
        {
            context.Resources.Remove(resourceId);
            return GpuResponse.OkNoData;
        }
        if (!resourceExists)
            return GpuResponse.ErrInvalidResourceId(resourceId);
        context.Resources.Add(resourceId);
        return GpuResponse.OkNoData;
    }

    /// <summary>A blob created in (or attached to) a context belongs to it: Linux attaches what the file creates.</summary>
    public void AttachOnCreate(uint ctxId, uint resourceId)
    {
        if (ctxId != 0 && _contexts.TryGetValue(ctxId, out var context))
            context.Resources.Add(resourceId);
    }

    /// <summary>Whether <paramref name="resourceId"/> is attached to context <paramref name="ctxId"/>.</summary>
    public bool IsAttached(uint ctxId, uint resourceId) =>
        _contexts.TryGetValue(ctxId, out var context) && context.Resources.Contains(resourceId);

    /// <summary>A resource that went is attached nowhere.</summary>
    public void Forget(uint resourceId)
    {
        foreach (var context in _contexts.Values)
            context.Resources.Remove(resourceId);
    }

    // Without a device (back-end-only use) a readable socket just pumps; nobody waits on fences then.
    private static void PumpWithoutDevice(CrossDomainContext context)
    {
        context.Pump();
        context.TakeMessagesWritten();
    }
}
