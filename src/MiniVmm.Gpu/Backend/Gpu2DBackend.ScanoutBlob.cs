using MiniVmm.Gpu.Protocol;

namespace MiniVmm.Gpu.Backend;

/// <summary>SET_SCANOUT_BLOB and RESOURCE_FLUSH of a blob shown on a scanout.</summary>
public sealed partial class Gpu2DBackend
{
    /// <summary>
    /// SET_SCANOUT_BLOB: shows rect <paramref name="r"/> of a <paramref name="width"/> x <paramref name="height"/>
    /// framebuffer stored in a blob at plane 0's offset and stride (the formats are all single-plane, so planes 1..3
    /// are ignored). Every byte the scanout will read is checked to lie inside the blob; resource 0 disables.
    /// </summary>
    public GpuResponse SetScanoutBlob(uint scanoutId, uint resourceId, VirtioGpuRect r, uint width, uint height, uint format,
        uint stride, ulong offset)
    {
        if (scanoutId >= _scanouts.Length)
            return GpuResponse.ErrInvalidScanoutId(scanoutId);
        if (resourceId != 0)
        {
            if (!PixelFormats.IsSupported(format))
                return GpuResponse.ErrInvalidParameter($"unknown format {format}");
            if (width is 0 or > GpuOptions.MaxDimension || height is 0 or > GpuOptions.MaxDimension)
                return GpuResponse.ErrInvalidParameter($"framebuffer {width}x{height} is out of range (1..{GpuOptions.MaxDimension})");
            if (r.Width == 0 || r.Height == 0 || r.X > width || r.Width > width - r.X || r.Y > height || r.Height > height - r.Y)
                return GpuResponse.ErrInvalidParameter($"scanout rect {r} is not inside the {width}x{height} framebuffer");
            if (stride < width * (ulong)PixelFormats.BytesPerPixel)
                return GpuResponse.ErrInvalidParameter($"stride {stride} is less than {width} pixels");
        }
        lock (_lock)
        {
            var scanout = _scanouts[scanoutId];
            if (resourceId == 0)
            {
                DisableLocked(scanout);
                return GpuResponse.OkNoData;
            }
            if (!_blobs.TryGetValue(resourceId, out var blob))
                return _resources.ContainsKey(resourceId)
                    ? GpuResponse.ErrInvalidParameter($"resource {resourceId} is not a blob")
                    : GpuResponse.ErrInvalidResourceId(resourceId);
            // Last byte read: offset + (height - 1) * stride + width * 4; the product is < 2^44, only offset is unbounded.
            ulong span = (height - 1UL) * stride + width * (ulong)PixelFormats.BytesPerPixel;
            if (offset > blob.Size || span > blob.Size - offset)
                return GpuResponse.ErrInvalidParameter($"framebuffer at offset {offset} needs {span} bytes, blob {resourceId} has {blob.Size}");
            long shadowBytes = (long)r.Width * r.Height * PixelFormats.BytesPerPixel;
            long cost = HostBudget.ScanoutCost(r.Width, r.Height, blob: true);
            if (RefuseScanoutLocked(scanout, cost) is { } refused)
                return refused;
            DisableLocked(scanout, keepFrame: false); // a new frame follows at once (a page flip)
            ChargeScanoutLocked(scanout, cost);
            var shadow = new Resource2D(resourceId, (VirtioGpuFormat)format, r.Width, r.Height, new byte[shadowBytes]);
            var shown = new ScanoutBlob(blob, offset, stride, r, shadow);
            _hostBytes += shadowBytes;
            scanout.Blob = shown;
            scanout.Resource = shadow;
            scanout.Rect = new VirtioGpuRect(0, 0, r.Width, r.Height);
            return shown.Refresh(0, r.Height)
                ? GpuResponse.OkNoData
                : GpuResponse.ErrUnspec($"blob {resourceId} is no longer readable");
        }
    }

    /// <summary>RESOURCE_FLUSH of a blob: refreshes and presents the flushed part of each scanout showing it.</summary>
    private GpuResponse FlushBlobLocked(uint resourceId, VirtioGpuRect r)
    {
        if (!_blobs.TryGetValue(resourceId, out var blob))
            return GpuResponse.ErrInvalidResourceId(resourceId);
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
                return GpuResponse.ErrUnspec($"blob {resourceId} is no longer readable");
            var shadow = shown.Shadow;
            _sink.Present(scanout.Id, shadow.Pixels, (int)shadow.Width, (int)shadow.Height, shadow.Stride, shadow.Format, dirty);
        }
        return GpuResponse.OkNoData;
    }
}
