using MiniVmm.Gpu.Protocol;

namespace MiniVmm.Gpu.Backend;

/// <summary>
/// The display heads: what each shows (a 2D resource, or a blob through its shadow copy), display info and EDID,
/// RESOURCE_FLUSH presenting to the sink, and the host budget each head costs. Sink calls are recorded and made once
/// the lock is released (<see cref="DeferredSinkCalls"/>).
/// Not thread-safe: <see cref="VirtioGpuBackend"/> calls it with the resource lock held (each <see cref="Scanout"/>
/// takes that lock itself for screenshots).
/// </summary>
internal sealed class ScanoutSet
{
    private readonly GpuOptions _options;
    private readonly HostBudget _budget;
    private readonly DeferredSinkCalls _sink;
    private readonly Scanout[] _scanouts;
    private readonly byte[] _edid;

    public ScanoutSet(GpuOptions options, HostBudget budget, DeferredSinkCalls sink, Lock resourceLock)
    {
        _options = options;
        _budget = budget;
        _sink = sink;
        _scanouts = [.. Enumerable.Range(0, options.Scanouts).Select(i => new Scanout(i, resourceLock))];
        _edid = Edid.Build(options.Width, options.Height);
    }

    public IReadOnlyList<Scanout> All => _scanouts;

    public bool TryGet(uint scanoutId, out Scanout scanout)
    {
        scanout = scanoutId < _scanouts.Length ? _scanouts[scanoutId] : null!;
        return scanout is not null;
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

    /// <summary>SET_SCANOUT of <paramref name="resource"/>'s rect <paramref name="r"/>.</summary>
    public GpuResponse Show(Scanout scanout, Resource2D resource, VirtioGpuRect r)
    {
        if (r.Width == 0 || r.Height == 0 || !resource.Contains(in r))
            return GpuResponse.ErrInvalidParameter($"scanout rect {r} is not inside resource {resource.Id} ({resource.Width}x{resource.Height})");
        if (r.Width > HostLimits.MaxScanoutDimension || r.Height > HostLimits.MaxScanoutDimension)
            return GpuResponse.ErrInvalidParameter(
                $"scanout rect {r.Width}x{r.Height} is larger than a window can show (at most {HostLimits.MaxScanoutDimension} a side)");
        long cost = HostBudget.ScanoutCost(r.Width, r.Height, blob: false);
        if (RefuseCharge(scanout, cost) is { } refused)
            return refused;
        if (scanout.Blob is not null)
            Disable(scanout, keepFrame: false); // drops the blob's shadow copy; a new frame follows at once
        Charge(scanout, cost);
        scanout.Resource = resource;
        scanout.Rect = r;
        return GpuResponse.OkNoData;
    }

    /// <summary>
    /// What SET_SCANOUT_BLOB may ask, checked before the lock: rect <paramref name="r"/> of a <paramref name="width"/> x
    /// <paramref name="height"/> framebuffer of a known format with room for its rows.
    /// </summary>
    public static GpuResponse? CheckFramebuffer(VirtioGpuRect r, uint width, uint height, uint format, uint stride)
    {
        if (!PixelFormats.IsSupported(format))
            return GpuResponse.ErrInvalidParameter($"unknown format {format}");
        if (width is 0 or > GpuOptions.MaxDimension || height is 0 or > GpuOptions.MaxDimension)
            return GpuResponse.ErrInvalidParameter($"framebuffer {width}x{height} is out of range (1..{GpuOptions.MaxDimension})");
        if (r.Width == 0 || r.Height == 0 || r.X > width || r.Width > width - r.X || r.Y > height || r.Height > height - r.Y)
            return GpuResponse.ErrInvalidParameter($"scanout rect {r} is not inside the {width}x{height} framebuffer");
        if (stride < width * (ulong)PixelFormats.BytesPerPixel)
            return GpuResponse.ErrInvalidParameter($"stride {stride} is less than {width} pixels");
        return null;
    }

    /// <summary>
    /// SET_SCANOUT_BLOB after <see cref="CheckFramebuffer"/>: the framebuffer sits in <paramref name="blob"/> at plane
    /// 0's offset and stride (the formats are all single-plane, so planes 1..3 are ignored). Every byte the scanout
    /// will read is checked to lie inside the blob.
    /// </summary>
    public GpuResponse ShowBlob(Scanout scanout, BlobResource blob, VirtioGpuRect r, uint width, uint height, uint format, uint stride,
        ulong offset)
    {
        // Last byte read: offset + (height - 1) * stride + width * 4; the product is < 2^44, only offset is unbounded.
        ulong span = (height - 1UL) * stride + width * (ulong)PixelFormats.BytesPerPixel;
        if (offset > blob.Size || span > blob.Size - offset)
            return GpuResponse.ErrInvalidParameter($"framebuffer at offset {offset} needs {span} bytes, blob {blob.Id} has {blob.Size}");
        long shadowBytes = (long)r.Width * r.Height * PixelFormats.BytesPerPixel;
        long cost = HostBudget.ScanoutCost(r.Width, r.Height, blob: true);
        if (RefuseCharge(scanout, cost) is { } refused)
            return refused;
        Disable(scanout, keepFrame: false); // a new frame follows at once (a page flip)
        Charge(scanout, cost);
        var shadow = new Resource2D(blob.Id, (VirtioGpuFormat)format, r.Width, r.Height, new byte[shadowBytes]);
        var shown = new ScanoutBlob(blob, offset, stride, r, shadow);
        _budget.HostBytes += shadowBytes;
        scanout.Blob = shown;
        scanout.Resource = shadow;
        scanout.Rect = new VirtioGpuRect(0, 0, r.Width, r.Height);
        return shown.Refresh(0, r.Height)
            ? GpuResponse.OkNoData
            : GpuResponse.ErrUnspec($"blob {blob.Id} is no longer readable");
    }

    /// <summary>Turns <paramref name="scanout"/> off (SET_SCANOUT with resource 0, its resource went, reset).</summary>
    /// <param name="keepFrame">False where the scanout is replaced, not turned off (every SET_SCANOUT_BLOB flip):
    /// the frame kept for screenshots is only wanted when nothing follows, and copying it costs a whole frame.</param>
    public void Disable(Scanout scanout, bool keepFrame = true)
    {
        if (scanout.Resource is null)
            return;
        if (keepFrame)
            scanout.KeepLastFrameLocked();
        if (scanout.Blob is { } shown)
            _budget.HostBytes -= shown.Shadow.Pixels.LongLength;
        _budget.Release(scanout.BudgetCharge);
        scanout.BudgetCharge = 0;
        scanout.Blob = null;
        scanout.Resource = null;
        scanout.Rect = default;
        int id = scanout.Id;
        _sink.Add(sink => sink.Disable(id));
    }

    /// <summary>Turns off every head showing <paramref name="resource"/> (it was unreferenced).</summary>
    public void DisableShowing(Resource2D resource)
    {
        foreach (var scanout in _scanouts)
        {
            if (scanout.Resource == resource)
                Disable(scanout);
        }
    }

    /// <summary>Turns off every head showing <paramref name="blob"/> (it was unreferenced).</summary>
    public void DisableShowing(BlobResource blob)
    {
        foreach (var scanout in _scanouts)
        {
            if (scanout.Blob?.Blob == blob)
                Disable(scanout);
        }
    }

    public void DisableAll()
    {
        foreach (var scanout in _scanouts)
            Disable(scanout);
    }

    /// <summary>RESOURCE_FLUSH: presents the part of <paramref name="r"/> that each scanout showing the resource covers.</summary>
    public GpuResponse Flush(Resource2D resource, VirtioGpuRect r)
    {
        if (!resource.Contains(in r))
            return GpuResponse.ErrInvalidParameter($"flush rect {r} is not inside resource {resource.Id} ({resource.Width}x{resource.Height})");
        foreach (var scanout in _scanouts)
        {
            if (scanout.Resource != resource)
                continue;
            var s = scanout.Rect;
            // Intersect in resource coordinates, then make the dirty rect relative to the scanout.
            uint left = Math.Max(r.X, s.X), top = Math.Max(r.Y, s.Y);
            uint right = Math.Min(r.X + r.Width, s.X + s.Width), bottom = Math.Min(r.Y + r.Height, s.Y + s.Height);
            if (right <= left || bottom <= top)
                continue;
            var dirty = new VirtioGpuRect(left - s.X, top - s.Y, right - left, bottom - top);
            int start = (int)s.Y * resource.Stride + (int)s.X * PixelFormats.BytesPerPixel;
            int length = ((int)s.Height - 1) * resource.Stride + (int)s.Width * PixelFormats.BytesPerPixel;
            Present(scanout.Id, resource, start, length, (int)s.Width, (int)s.Height, dirty);
        }
        return GpuResponse.OkNoData;
    }

    /// <summary>RESOURCE_FLUSH of a blob: refreshes and presents the flushed part of each scanout showing it.</summary>
    public GpuResponse FlushBlob(BlobResource blob, VirtioGpuRect r)
    {
        foreach (var scanout in _scanouts)
        {
            if (scanout.Blob is not { } shown || shown.Blob != blob)
                continue;
            var s = shown.Source;
            // Intersect in framebuffer coordinates (u64, so a hostile rect cannot wrap), then relative to the scanout.
            ulong left = Math.Max(r.X, s.X), top = Math.Max(r.Y, s.Y);
            ulong right = Math.Min((ulong)r.X + r.Width, (ulong)s.X + s.Width), bottom = Math.Min((ulong)r.Y + r.Height, (ulong)s.Y + s.Height);
            if (right <= left || bottom <= top)
                continue;
            var dirty = new VirtioGpuRect((uint)(left - s.X), (uint)(top - s.Y), (uint)(right - left), (uint)(bottom - top));
            if (!shown.Refresh(dirty.Y, dirty.Height))
                return GpuResponse.ErrUnspec($"blob {blob.Id} is no longer readable");
            var shadow = shown.Shadow;
            Present(scanout.Id, shadow, 0, shadow.Pixels.Length, (int)shadow.Width, (int)shadow.Height, dirty);
        }
        return GpuResponse.OkNoData;
    }

    /// <summary>
    /// Records a frame for the sink. The pixels are read when the call is made, after the lock: the device thread,
    /// which alone changes them (TRANSFER, FLUSH), makes the call before it runs the next command.
    /// </summary>
    private void Present(int scanoutId, Resource2D image, int start, int length, int width, int height, VirtioGpuRect dirty)
    {
        var pixels = image.Pixels;
        int stride = image.Stride;
        var format = image.Format;
        _sink.Add(sink => sink.Present(scanoutId, pixels.AsSpan(start, length), width, height, stride, format, dirty));
    }

    /// <summary>Whether showing <paramref name="cost"/> on <paramref name="scanout"/> (instead of what it shows) fits the budget.</summary>
    private GpuResponse? RefuseCharge(Scanout scanout, long cost) =>
        _budget.Refuse($"scanout {scanout.Id}", cost - scanout.BudgetCharge);

    /// <summary>Charges the scanout's new copies, after <see cref="RefuseCharge"/> said they fit.</summary>
    private void Charge(Scanout scanout, long cost)
    {
        _budget.Release(scanout.BudgetCharge);
        scanout.BudgetCharge = 0;
        if (_budget.TryCharge($"scanout {scanout.Id}", cost) is null)
            scanout.BudgetCharge = cost;
    }
}
