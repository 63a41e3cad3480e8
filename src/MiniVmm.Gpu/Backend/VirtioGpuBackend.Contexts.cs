using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Virtio;

namespace MiniVmm.Gpu.Backend;

// Capset and context commands, SUBMIT_3D and the cross-domain pump. A cross-domain context is looked up under the
// resource lock and driven after it is released, under the context's own lock (it talks to the compositor).
public sealed partial class VirtioGpuBackend
{
    /// <summary>num_capsets in the config space: the cross-domain capset when contexts are offered.</summary>
    public int CapsetCount => _contexts.CapsetCount;

    /// <summary>GET_CAPSET_INFO: index 0 is cross-domain {id 5, max_version 0, max_size 16}.</summary>
    public GpuResponse GetCapsetInfo(uint index) => _contexts.GetCapsetInfo(index);

    /// <summary>GET_CAPSET: the 16-byte CrossDomainCapabilities.</summary>
    public GpuResponse GetCapset(uint capsetId, uint version) => _contexts.GetCapset(capsetId, version);

    /// <summary>
    /// Where contexts watch their compositor sockets and pipes, and what runs (on that loop's thread) when one is
    /// readable, or writable while output waits for it.
    /// The device passes its own handler, which pumps the context and completes the fences its messages answer.
    /// </summary>
    internal void ConfigureCrossDomain(EventLoop? loop, Action<CrossDomainContext> onReadable)
    {
        lock (_lock)
            _contexts.ConfigureCrossDomain(loop, onReadable);
    }

    /// <summary>CTX_CREATE (<see cref="ContextTable.Create"/>).</summary>
    public GpuResponse CreateContext(uint ctxId, uint contextInit, string debugName)
    {
        lock (_lock)
            return _contexts.Create(ctxId, contextInit, debugName, _crossDomainAccess);
    }

    /// <summary>CTX_DESTROY: socket, pipes and parked compositor fds go now; the device completes the context's deferred fences.</summary>
    public GpuResponse DestroyContext(uint ctxId)
    {
        GpuContext? context;
        lock (_lock)
            context = _contexts.Remove(ctxId);
        if (context is null)
            return GpuResponse.Err(VirtioGpuCtrlType.RESP_ERR_INVALID_CONTEXT_ID, $"no context {ctxId}");
        DisposeCrossDomain(context);
        return GpuResponse.OkNoData;
    }

    /// <summary>CTX_ATTACH_RESOURCE / CTX_DETACH_RESOURCE (<see cref="ContextTable.Attach"/>).</summary>
    public GpuResponse AttachToContext(uint ctxId, uint resourceId, bool attach)
    {
        lock (_lock)
            return _contexts.Attach(ctxId, resourceId, attach, IdInUseLocked(resourceId));
    }

    /// <summary>
    /// SUBMIT_3D: a cross-domain context runs the stream; other contexts have none. <paramref name="polls"/> is how
    /// many POLLs it carried; the messages that answer them are counted by <see cref="TakeCrossDomainMessages"/>.
    /// </summary>
    public GpuResponse Submit3D(uint ctxId, ReadOnlySpan<byte> commands, out int polls)
    {
        polls = 0;
        GpuContext? context;
        lock (_lock)
            _contexts.TryGet(ctxId, out context);
        if (context is null)
            return GpuResponse.Err(VirtioGpuCtrlType.RESP_ERR_INVALID_CONTEXT_ID, $"no context {ctxId}");
        if (context.CrossDomain is not { } crossDomain)
            return GpuResponse.ErrInvalidParameter($"context {ctxId} has no command stream (no virgl renderer)");
        var error = crossDomain.Submit(commands, out polls);
        return error is null ? GpuResponse.OkNoData : GpuResponse.ErrUnspec(error);
    }

    /// <summary>POLLs of context <paramref name="ctxId"/> answered since the last call (0 for a gone context).</summary>
    public int TakeCrossDomainMessages(uint ctxId) => GetCrossDomainContext(ctxId)?.TakeMessagesWritten() ?? 0;

    /// <summary>Pumps <paramref name="context"/> if it is still live; returns the POLLs answered.</summary>
    internal int PumpCrossDomain(CrossDomainContext context)
    {
        // The loop may fire once more after CTX_DESTROY or reset dropped the watch: that context is gone.
        if (GetCrossDomainContext(context.Id) != context)
            return 0;
        context.Pump();
        return context.TakeMessagesWritten();
    }

    /// <summary>Whether context <paramref name="ctxId"/> exists (the device drops deferred fences of gone ones).</summary>
    public bool HasContext(uint ctxId)
    {
        lock (_lock)
            return _contexts.Contains(ctxId);
    }

    /// <summary>The cross-domain state of context <paramref name="ctxId"/>, for tests and diagnostics.</summary>
    public CrossDomainContext? GetCrossDomainContext(uint ctxId)
    {
        lock (_lock)
            return _contexts.TryGet(ctxId, out var context) ? context.CrossDomain : null;
    }
}
