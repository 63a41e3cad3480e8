using System.Runtime.InteropServices;
using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Memory;
using MiniVmm.Virtio;

namespace MiniVmm.Gpu.Backend;

/// <summary>
/// SUBMIT_3D for cross-domain contexts, and the resource access their <see cref="CrossDomainContext"/> needs
/// (<see cref="ICrossDomainHost"/>). Contexts are only driven under <see cref="_lock"/>.
/// </summary>
public sealed partial class Gpu2DBackend : ICrossDomainHost
{
    private EventLoop? _crossDomainLoop; // guarded by _lock; made on first use unless the device gave one
    private Action<CrossDomainContext> _onCrossDomainReadable;

    /// <summary>
    /// Where contexts watch their compositor sockets and pipes, and what runs (on that loop's thread) when one is
    /// readable, or writable while output waits for it.
    /// The device passes its own handler, which pumps the context and completes the fences its messages answer.
    /// </summary>
    internal void ConfigureCrossDomain(EventLoop? loop, Action<CrossDomainContext> onReadable)
    {
        lock (_lock)
        {
            _crossDomainLoop = loop;
            _onCrossDomainReadable = onReadable;
        }
    }

    // Without a device (back-end-only use) a readable socket just pumps; nobody waits on fences then.
    private void PumpWithoutDevice(CrossDomainContext context) => PumpCrossDomain(context);

    private EventLoop CrossDomainLoop => _crossDomainLoop ??= new EventLoop("minivmm-gpu-xd");

    /// <summary>
    /// SUBMIT_3D: a cross-domain context runs the stream; other contexts have none. <paramref name="polls"/> is how
    /// many POLLs it carried; the messages that answer them are counted by <see cref="TakeCrossDomainMessages"/>.
    /// </summary>
    public GpuResponse Submit3D(uint ctxId, ReadOnlySpan<byte> commands, out int polls)
    {
        polls = 0;
        lock (_lock)
        {
            if (!_contexts.TryGetValue(ctxId, out var context))
                return GpuResponse.Err(VirtioGpuCtrlType.RESP_ERR_INVALID_CONTEXT_ID, $"no context {ctxId}");
            if (context.CrossDomain is not { } crossDomain)
                return GpuResponse.ErrInvalidParameter($"context {ctxId} has no command stream (no virgl renderer)");
            var error = crossDomain.Submit(commands, out polls);
            return error is null ? GpuResponse.OkNoData : GpuResponse.ErrUnspec(error);
        }
    }

    /// <summary>POLLs of context <paramref name="ctxId"/> answered since the last call (0 for a gone context).</summary>
    public int TakeCrossDomainMessages(uint ctxId)
    {
        lock (_lock)
            return _contexts.TryGetValue(ctxId, out var context) && context.CrossDomain is { } crossDomain ? crossDomain.TakeMessagesWritten() : 0;
    }

    /// <summary>Pumps <paramref name="context"/> if it is still live; returns the POLLs answered.</summary>
    internal int PumpCrossDomain(CrossDomainContext context)
    {
        lock (_lock)
        {
            // The loop may fire once more after CTX_DESTROY or reset dropped the watch: that context is gone.
            if (!_contexts.TryGetValue(context.Id, out var live) || live.CrossDomain != context)
                return 0;
            context.Pump();
            return context.TakeMessagesWritten();
        }
    }

    /// <summary>Whether context <paramref name="ctxId"/> exists (the device drops deferred fences of gone ones).</summary>
    public bool HasContext(uint ctxId)
    {
        lock (_lock)
            return _contexts.ContainsKey(ctxId);
    }

    /// <summary>The cross-domain state of context <paramref name="ctxId"/>, for tests and diagnostics.</summary>
    public CrossDomainContext? GetCrossDomainContext(uint ctxId)
    {
        lock (_lock)
            return _contexts.TryGetValue(ctxId, out var context) ? context.CrossDomain : null;
    }

    /// <summary>A blob created in (or attached to) a context belongs to it: Linux attaches what the file creates.</summary>
    private void AttachOnCreateLocked(uint ctxId, uint resourceId)
    {
        if (ctxId != 0 && _contexts.TryGetValue(ctxId, out var context))
            context.Resources.Add(resourceId);
    }

    bool ICrossDomainHost.TryGetBlobFd(uint ctxId, uint resourceId, out SafeHandle fd, out ulong size)
    {
        fd = null!;
        size = 0;
        if (!IsAttachedLocked(ctxId, resourceId, out var blob) || blob.Host is not { } host || host.Duplicate() is not { } dup)
            return false;
        fd = dup;
        size = blob.Size;
        return true;
    }

    string? ICrossDomainHost.CheckRing(uint ctxId, uint resourceId)
    {
        if (!IsAttachedLocked(ctxId, resourceId, out var blob))
            return $"resource {resourceId} is not a blob of context {ctxId}";
        if (blob.Guest is null)
            return $"resource {resourceId} is not a guest-memory blob";
        return blob.Size < CrossDomainConstants.RingSize ? $"resource {resourceId} is smaller than a {CrossDomainConstants.RingSize}-byte ring" : null;
    }

    string? ICrossDomainHost.WriteRing(uint ctxId, uint resourceId, ReadOnlySpan<byte> message)
    {
        if (((ICrossDomainHost)this).CheckRing(ctxId, resourceId) is { } error)
            return error;
        var blob = _blobs[resourceId];
        if ((ulong)message.Length > blob.Size)
            return $"a {message.Length}-byte message does not fit ring {resourceId}";
        var result = blob.Guest!.TryWrite(blob.GuestMemory!, 0, message);
        return result == GuestMemoryError.None ? null : $"ring {resourceId} is not in guest memory: {result}";
    }

    private bool IsAttachedLocked(uint ctxId, uint resourceId, out BlobResource blob)
    {
        blob = null!;
        return _contexts.TryGetValue(ctxId, out var context) && context.Resources.Contains(resourceId) && _blobs.TryGetValue(resourceId, out blob!);
    }
}
