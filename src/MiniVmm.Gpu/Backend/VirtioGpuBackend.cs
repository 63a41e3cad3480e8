using MiniVmm.Gpu.CrossDomain;
using Microsoft.Win32.SafeHandles;
using MiniVmm.Gpu.Winsrv;

namespace MiniVmm.Gpu.Backend;

/// <summary>
/// The virtio-gpu backend: what the frontend calls with plain ids once it has decoded a command, every method
/// returning a <see cref="GpuResponse"/>, errors included. It knows no queues, and composes types with one job each:
/// <list type="bullet">
/// <item><see cref="ResourceTable"/>: 2D resources, their pixels and guest backing;</item>
/// <item><see cref="BlobTable"/>: blob resources and their mapping into the host-visible region;</item>
/// <item><see cref="ScanoutSet"/>: the display heads (2D and blob scanouts), display info, EDID, flushes;</item>
/// <item><see cref="GuestCursor"/>: the cursor queue's image and position;</item>
/// <item><see cref="ContextTable"/>: capsets and contexts; a cross-domain context owns its compositor channel;</item>
/// <item><see cref="HostBudget"/>: the one host-memory budget all of them charge.</item>
/// </list>
/// Locks, taken only in this order, after the device's own (a thread never takes an earlier one while holding a later one):
/// <list type="number">
/// <item>A <see cref="CrossDomain.CrossDomainContext"/>'s own lock guards its channel, rings, POLL count and watches;
/// every compositor socket and pipe read or write of that context runs under it and no other backend lock.</item>
/// <item><see cref="_sinkCalls"/>' delivery lock orders frames and cursor updates to the <see cref="IScanoutSink"/>
/// (a window writes to its compositor): they are recorded under the resource lock and made after it is released.</item>
/// <item>The resource lock (<see cref="_lock"/>) guards every table above, the budget, each <see cref="Scanout"/>'s
/// state (screenshots take it from other threads) and each context's attached resources. It is held for table work
/// and guest-memory copies only: no compositor I/O runs under it. Winsrv's connections have their own lock in
/// <see cref="WinsrvFrontend"/> and take this one only to dup a resource's memfd.</item>
/// <item>A cross-domain context's registry lock (parked compositor fds, image answers) is a leaf.</item>
/// </list>
/// </summary>
public sealed partial class VirtioGpuBackend
{
    /// <summary>
    /// Most mem entries one ATTACH_BACKING may carry: a 256 MiB resource in 4 KiB pages is 65536, so
    /// twice that leaves room while bounding what a guest can make the host allocate.
    /// </summary>
    public const int MaxBackingEntries = 1 << 17;

    /// <summary>Blob sizes and host-visible offsets are in guest pages (Linux PAGE_ALIGNs them; KVM slots need it).</summary>
    public const ulong PageSize = 4096;

    /// <summary>Most blobs mapped at once (QEMU's MAX_SLOTS): each costs a KVM memory slot.</summary>
    public const int MaxMappings = 4096;

    /// <summary>Most live contexts: Linux makes one per open DRM file, so this bounds what a guest can make us hold.</summary>
    public const int MaxContexts = 1024;

    private readonly Lock _lock = new();
    private readonly GpuOptions _options;
    private readonly HostBudget _budget; // guarded by _lock, like every table below
    private readonly ResourceTable _resources;
    private readonly BlobTable _blobs;
    private readonly ScanoutSet _scanouts;
    private readonly GuestCursor _cursor;
    private readonly ContextTable _contexts;
    private readonly CrossDomainResourceAccess _crossDomainAccess;
    private readonly DeferredSinkCalls _sinkCalls;

    /// <param name="region">The host-visible region MAP_BLOB places blobs in; null when the device has none.</param>
    public VirtioGpuBackend(GpuOptions options, IScanoutSink? sink = null, IHostVisibleRegion? region = null)
    {
        if (options.Check() is { } error)
            throw new ArgumentException(error, nameof(options));
        _options = options;
        _budget = new HostBudget(options.MaxHostMemoryBytes);
        CrossDomainLedger = new CrossDomainLedger { BudgetRoom = () => _budget.RoomForQueues };
        _budget.CrossDomain = CrossDomainLedger;
        _sinkCalls = new DeferredSinkCalls(sink ?? NullScanoutSink.Instance, _lock);
        _resources = new ResourceTable(_budget);
        _blobs = new BlobTable(_budget, region);
        _scanouts = new ScanoutSet(options, _budget, _sinkCalls, _lock);
        _cursor = new GuestCursor(_sinkCalls);
        _contexts = new ContextTable(options, _budget, CrossDomainLedger);
        _crossDomainAccess = new CrossDomainResourceAccess(_lock, _contexts, _blobs);
    }

    public IReadOnlyList<Scanout> Scanouts => _scanouts.All;

    internal GpuOptions Options => _options;

    /// <summary>Host bytes held by resources (for tests and diagnostics).</summary>
    public long HostBytes => Read(() => _budget.HostBytes);

    /// <summary>What all cross-domain channels and winsrv connections hold together (queued bytes, pipes, parked fds); thread-safe.</summary>
    public CrossDomainLedger CrossDomainLedger { get; }

    public int ResourceCount => Read(() => _resources.Count + _blobs.Count);

    public int ContextCount => Read(() => _contexts.Count);

    /// <summary>Everything charged to the host budget now: pixels, pages, entries, objects, scanout copies.</summary>
    public long BudgetBytes => Read(() => _budget.Bytes);

    /// <summary>Resources, blobs and contexts charged to the budget now.</summary>
    public int BudgetObjects => Read(() => _budget.Objects);

    /// <summary>The cursor as last set: image (null when hidden), scanout and position.</summary>
    public (CursorImage? Image, int ScanoutId, int X, int Y) Cursor => Read(() => _cursor.State);

    /// <summary>Drops every resource (unmapping blobs), every context, and disables every scanout (device reset).</summary>
    public void Reset()
    {
        GpuContext[] contexts;
        lock (_lock)
        {
            foreach (var blob in _blobs.Clear())
                _scanouts.DisableShowing(blob);
            contexts = _contexts.TakeAll();
            _resources.Clear();
            _scanouts.DisableAll();
            _budget.Clear();
            _cursor.Reset();
        }
        DisposeCrossDomain(contexts);
        _sinkCalls.Deliver();
    }

    /// <summary>The refusal <paramref name="count"/> more backing entries would get now, checked before they are read.</summary>
    internal GpuResponse? RefuseBackingEntries(uint count)
    {
        lock (_lock)
            return count == 0 ? null : _budget.Refuse($"{count} backing entries", HostBudget.BackingCost(count), entries: count);
    }

    /// <summary>A close-on-exec dup of the memfd winsrv passes for <paramref name="resourceId"/> (<see cref="WinsrvMemfds.TryDup"/>).</summary>
    internal SafeFileHandle? TryDupWinsrvFd(uint resourceId, out ulong size, out string? refusal, out bool outOfMemory)
    {
        lock (_lock)
            return WinsrvMemfds.TryDup(_resources, _blobs, _budget, resourceId, out size, out refusal, out outOfMemory);
    }

    private T Read<T>(Func<T> read)
    {
        lock (_lock)
            return read();
    }

    private bool IdInUseLocked(uint resourceId) => _resources.Contains(resourceId) || _blobs.Contains(resourceId);

    private GpuResponse? RefuseIdInUseLocked(uint resourceId) => IdInUseLocked(resourceId)
        ? GpuResponse.Err(Protocol.VirtioGpuCtrlType.RESP_ERR_INVALID_RESOURCE_ID, $"resource {resourceId} already exists")
        : null;

    /// <summary>The blob <paramref name="resourceId"/>, or the error for a 2D resource or an unknown id.</summary>
    private GpuResponse? FindBlobLocked(uint resourceId, out BlobResource blob)
    {
        if (_blobs.TryGet(resourceId, out blob!))
            return null;
        return _resources.Contains(resourceId)
            ? GpuResponse.ErrInvalidParameter($"resource {resourceId} is not a blob")
            : GpuResponse.ErrInvalidResourceId(resourceId);
    }

    /// <summary>Closes removed contexts' sockets, pipes and parked fds: after the resource lock, under each context's own.</summary>
    private static void DisposeCrossDomain(params ReadOnlySpan<GpuContext> contexts)
    {
        foreach (var context in contexts)
            context.CrossDomain?.Dispose();
    }

    /// <summary>RESOURCE_UNREF of a blob: unmapped and freed, taken off scanouts and contexts.</summary>
    private GpuResponse UnrefBlobLocked(uint resourceId)
    {
        if (_blobs.Remove(resourceId) is not { } blob)
            return GpuResponse.ErrInvalidResourceId(resourceId);
        _scanouts.DisableShowing(blob);
        _contexts.Forget(resourceId);
        return GpuResponse.OkNoData;
    }
}
