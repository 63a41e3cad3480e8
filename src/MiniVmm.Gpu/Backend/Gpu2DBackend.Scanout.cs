using MiniVmm.Gpu.Protocol;

namespace MiniVmm.Gpu.Backend;

/// <summary>SET_SCANOUT and RESOURCE_FLUSH.</summary>
public sealed partial class Gpu2DBackend
{
    /// <summary>SET_SCANOUT: shows <paramref name="r"/> of a resource on a scanout; resource 0 disables it.</summary>
    public GpuResponse SetScanout(uint scanoutId, uint resourceId, VirtioGpuRect r)
    {
        if (scanoutId >= _scanouts.Length)
            return GpuResponse.ErrInvalidScanoutId(scanoutId);
        lock (_lock)
        {
            var scanout = _scanouts[scanoutId];
            if (resourceId == 0)
            {
                DisableLocked(scanout);
                return GpuResponse.OkNoData;
            }
            if (!_resources.TryGetValue(resourceId, out var resource))
                return GpuResponse.ErrInvalidResourceId(resourceId);
            if (r.Width == 0 || r.Height == 0 || !resource.Contains(in r))
                return GpuResponse.ErrInvalidParameter($"scanout rect {r} is not inside resource {resourceId} ({resource.Width}x{resource.Height})");
            if (r.Width > HostLimits.MaxScanoutDimension || r.Height > HostLimits.MaxScanoutDimension)
                return GpuResponse.ErrInvalidParameter(
                    $"scanout rect {r.Width}x{r.Height} is larger than a window can show (at most {HostLimits.MaxScanoutDimension} a side)");
            long cost = HostBudget.ScanoutCost(r.Width, r.Height, blob: false);
            if (RefuseScanoutLocked(scanout, cost) is { } refused)
                return refused;
            if (scanout.Blob is not null)
                DisableLocked(scanout, keepFrame: false); // drops the blob's shadow copy; a new frame follows at once
            ChargeScanoutLocked(scanout, cost);
            scanout.Resource = resource;
            scanout.Rect = r;
            return GpuResponse.OkNoData;
        }
    }

    /// <summary>RESOURCE_FLUSH: presents the part of <paramref name="r"/> that each scanout showing the resource covers.</summary>
    public GpuResponse FlushResource(uint resourceId, VirtioGpuRect r)
    {
        lock (_lock)
        {
            if (!_resources.TryGetValue(resourceId, out var resource))
                return FlushBlobLocked(resourceId, r);
            if (!resource.Contains(in r))
                return GpuResponse.ErrInvalidParameter($"flush rect {r} is not inside resource {resourceId} ({resource.Width}x{resource.Height})");
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
                _sink.Present(scanout.Id, resource.Pixels.AsSpan(start, length), (int)s.Width, (int)s.Height,
                    resource.Stride, resource.Format, dirty);
            }
            return GpuResponse.OkNoData;
        }
    }
}
