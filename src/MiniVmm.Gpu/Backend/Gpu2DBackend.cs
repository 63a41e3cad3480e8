using MiniVmm.Gpu.Protocol;

namespace MiniVmm.Gpu.Backend;

/// <summary>
/// The 2D half of virtio-gpu: resources, their backing, scanouts, cursor, display info and EDID. It knows
/// no queues: the frontend decodes commands and calls these methods with plain ids, and every method
/// returns a <see cref="GpuResponse"/>, errors included. Thread-safe: <see cref="_lock"/> guards the
/// resource table, the memory count, the scanouts' state and the cursor, so screenshots and reset may
/// come from other threads than the device's.
/// </summary>
public sealed partial class Gpu2DBackend
{
    private readonly Lock _lock = new();
    private readonly GpuOptions _options;
    private readonly IScanoutSink _sink;
    private readonly Scanout[] _scanouts;
    private readonly byte[] _edid;
    private readonly Dictionary<uint, Resource2D> _resources = []; // guarded by _lock
    private long _hostBytes; // guarded by _lock: bytes of 2D pixel buffers, HOST3D blob memfds and blob scanout copies

    /// <param name="region">The host-visible region MAP_BLOB places blobs in; null when the device has none.</param>
    public Gpu2DBackend(GpuOptions options, IScanoutSink? sink = null, IHostVisibleRegion? region = null)
    {
        if (options.Check() is { } error)
            throw new ArgumentException(error, nameof(options));
        _options = options;
        _sink = sink ?? NullScanoutSink.Instance;
        _scanouts = [.. Enumerable.Range(0, options.Scanouts).Select(i => new Scanout(i, _lock))];
        _edid = Edid.Build(options.Width, options.Height);
        _region = region;
        _onCrossDomainReadable = PumpWithoutDevice;
    }

    public IReadOnlyList<Scanout> Scanouts => _scanouts;

    internal GpuOptions Options => _options;

    /// <summary>Host bytes held by resources (for tests and diagnostics).</summary>
    public long HostBytes
    {
        get
        {
            lock (_lock)
                return _hostBytes;
        }
    }

    public int ResourceCount
    {
        get
        {
            lock (_lock)
                return _resources.Count + _blobs.Count;
        }
    }

    /// <summary>Drops every resource (unmapping blobs), every context, and disables every scanout (device reset).</summary>
    public void Reset()
    {
        lock (_lock)
        {
            DropBlobsLocked();
            foreach (var resource in _resources.Values)
                UnshareLocked(resource);
            _resources.Clear();
            foreach (var scanout in _scanouts)
                DisableLocked(scanout);
            _hostBytes = 0;
            Budget.Clear();
            _mappings = 0; // DropBlobsLocked unmapped every blob; nothing may outlive a reset
            ResetCursorLocked();
        }
    }

    /// <summary>GET_DISPLAY_INFO: scanout 0 enabled at the configured size; the others listed but disabled.</summary>
    public GpuResponse GetDisplayInfo()
    {
        var info = new VirtioGpuRespDisplayInfo();
        for (int i = 0; i < _scanouts.Length; i++)
        {
            info.Pmodes[i].R = new VirtioGpuRect(0, 0, (uint)_options.Width, (uint)_options.Height);
            info.Pmodes[i].Enabled = i == 0 ? 1u : 0u;
        }
        return GpuResponse.WithStruct(VirtioGpuCtrlType.RESP_OK_DISPLAY_INFO, in info);
    }

    /// <summary>GET_EDID for <paramref name="scanoutId"/>: the 128-byte base block for the configured mode.</summary>
    public GpuResponse GetEdid(uint scanoutId)
    {
        if (!_options.Edid)
            return GpuResponse.ErrUnspec("EDID is not offered");
        if (scanoutId >= _scanouts.Length)
            return GpuResponse.ErrInvalidScanoutId(scanoutId);
        var response = new VirtioGpuRespEdid { Size = (uint)_edid.Length };
        _edid.CopyTo(response.Edid);
        return GpuResponse.WithStruct(VirtioGpuCtrlType.RESP_OK_EDID, in response);
    }

    /// <summary>RESOURCE_CREATE_2D.</summary>
    public GpuResponse CreateResource2D(uint resourceId, uint format, uint width, uint height)
    {
        if (resourceId == 0)
            return GpuResponse.Err(VirtioGpuCtrlType.RESP_ERR_INVALID_RESOURCE_ID, "resource id 0 is reserved");
        if (!PixelFormats.IsSupported(format))
            return GpuResponse.ErrInvalidParameter($"unknown format {format}");
        if (width == 0 || height == 0)
            return GpuResponse.ErrInvalidParameter($"empty size {width}x{height}");
        // A product of two u32 values fits in a u64; times 4 it might not, so compare before multiplying.
        ulong pixels = (ulong)width * height;
        if (pixels > (ulong)Array.MaxLength / PixelFormats.BytesPerPixel)
            return GpuResponse.ErrInvalidParameter($"size {width}x{height} is too large");
        ulong bytes = pixels * PixelFormats.BytesPerPixel;
        lock (_lock)
        {
            if (IdInUseLocked(resourceId))
                return GpuResponse.Err(VirtioGpuCtrlType.RESP_ERR_INVALID_RESOURCE_ID, $"resource {resourceId} already exists");
            if (Budget.TryCharge($"{width}x{height} resource", (long)bytes + HostBudget.PerObjectBytes, objects: 1) is { } refused)
                return refused;
            _resources.Add(resourceId, new Resource2D(resourceId, (VirtioGpuFormat)format, width, height, new byte[bytes]));
            _hostBytes += (long)bytes;
            return GpuResponse.OkNoData;
        }
    }

    /// <summary>RESOURCE_UNREF: also detaches it from scanouts and drops its backing.</summary>
    public GpuResponse UnrefResource(uint resourceId)
    {
        lock (_lock)
        {
            if (!_resources.Remove(resourceId, out var resource))
                return UnrefBlobLocked(resourceId);
            _hostBytes -= resource.Pixels.LongLength;
            Budget.Release(ChargeOf(resource), objects: 1);
            ReleaseBackingLocked(resource.Backing);
            ForgetInContextsLocked(resourceId);
            resource.Backing = null;
            UnshareLocked(resource);
            foreach (var scanout in _scanouts)
            {
                if (scanout.Resource == resource)
                    DisableLocked(scanout);
            }
            return GpuResponse.OkNoData;
        }
    }

    /// <param name="keepFrame">False where the scanout is replaced, not turned off (every SET_SCANOUT_BLOB flip):
    /// the frame kept for screenshots is only wanted when nothing follows, and copying it costs a whole frame.</param>
    private void DisableLocked(Scanout scanout, bool keepFrame = true)
    {
        if (scanout.Resource is null)
            return;
        if (keepFrame)
            scanout.KeepLastFrameLocked();
        if (scanout.Blob is { } shown)
            _hostBytes -= shown.Shadow.Pixels.LongLength;
        ReleaseScanoutLocked(scanout);
        scanout.Blob = null;
        scanout.Resource = null;
        scanout.Rect = default;
        _sink.Disable(scanout.Id);
    }
}
