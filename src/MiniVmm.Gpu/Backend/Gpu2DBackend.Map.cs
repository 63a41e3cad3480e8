using MiniVmm.Gpu.Protocol;

namespace MiniVmm.Gpu.Backend;

/// <summary>RESOURCE_MAP_BLOB and RESOURCE_UNMAP_BLOB: placing HOST3D blobs in the host-visible region.</summary>
public sealed partial class Gpu2DBackend
{
    /// <summary>Most blobs mapped at once (QEMU's MAX_SLOTS): each costs a KVM memory slot.</summary>
    public const int MaxMappings = 4096;

    private readonly IHostVisibleRegion? _region;
    private int _mappings; // guarded by _lock: blobs with a MappedOffset

    /// <summary>
    /// RESOURCE_MAP_BLOB at <paramref name="offset"/> of the region. The blob must be a MAPPABLE host blob, not mapped
    /// yet; [offset, offset + size) must be page aligned, inside the region and clear of every other mapping.
    /// The region has made the pages visible before this returns, so the guest may touch them at once.
    /// Answers map_info CACHE_CACHED: the pages are ordinary host RAM.
    /// </summary>
    public GpuResponse MapBlob(uint resourceId, ulong offset)
    {
        if (_region is not { } region)
            return GpuResponse.ErrUnspec("the device has no host-visible region");
        lock (_lock)
        {
            if (!_blobs.TryGetValue(resourceId, out var blob))
                return _resources.ContainsKey(resourceId)
                    ? GpuResponse.ErrInvalidParameter($"resource {resourceId} is not a blob")
                    : GpuResponse.ErrInvalidResourceId(resourceId);
            if ((blob.Flags & VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE) == 0)
                return GpuResponse.ErrInvalidParameter($"blob {resourceId} was not created USE_MAPPABLE");
            if (blob.Host is not { } host)
                return GpuResponse.ErrInvalidParameter($"blob {resourceId} is guest memory; the guest maps its own pages");
            if (blob.MappedOffset is { } existing)
                return GpuResponse.ErrInvalidParameter($"blob {resourceId} is already mapped at 0x{existing:x}");
            if (offset % PageSize != 0)
                return GpuResponse.ErrInvalidParameter($"offset 0x{offset:x} is not page aligned");
            if (offset > region.Size || blob.Size > region.Size - offset)
                return GpuResponse.ErrInvalidParameter($"0x{offset:x}+0x{blob.Size:x} is outside the 0x{region.Size:x}-byte region");
            if (OverlappingLocked(offset, blob.Size) is { } other)
                return GpuResponse.ErrInvalidParameter(
                    $"0x{offset:x}+0x{blob.Size:x} overlaps blob {other.Id} at 0x{other.MappedOffset:x}+0x{other.Size:x}");
            if (_mappings >= MaxMappings)
                return GpuResponse.ErrOutOfMemory($"{MaxMappings} blobs are mapped already");
            if (!region.TryMap(offset, blob.Size, host.Fd, out string? error))
                return GpuResponse.ErrUnspec($"mapping blob {resourceId} failed: {error}");
            blob.MappedOffset = offset;
            _mappings++;
            var info = new VirtioGpuRespMapInfo { MapInfo = VirtioGpuConstants.VIRTIO_GPU_MAP_CACHE_CACHED };
            return GpuResponse.WithStruct(VirtioGpuCtrlType.RESP_OK_MAP_INFO, in info);
        }
    }

    /// <summary>RESOURCE_UNMAP_BLOB: the range becomes a hole again (guest accesses are MMIO exits).</summary>
    public GpuResponse UnmapBlob(uint resourceId)
    {
        if (_region is not { } region)
            return GpuResponse.ErrUnspec("the device has no host-visible region");
        lock (_lock)
        {
            if (!_blobs.TryGetValue(resourceId, out var blob))
                return _resources.ContainsKey(resourceId)
                    ? GpuResponse.ErrInvalidParameter($"resource {resourceId} is not a blob")
                    : GpuResponse.ErrInvalidResourceId(resourceId);
            if (blob.MappedOffset is not { } offset)
                return GpuResponse.ErrInvalidParameter($"blob {resourceId} is not mapped");
            region.Unmap(offset);
            blob.MappedOffset = null;
            _mappings--;
            return GpuResponse.OkNoData;
        }
    }

    /// <summary>The mapped blob that shares a byte with [offset, offset + size), if any. Both ranges are inside the region, so no sum overflows.</summary>
    private BlobResource? OverlappingLocked(ulong offset, ulong size)
    {
        foreach (var blob in _blobs.Values)
        {
            if (blob.MappedOffset is { } start && start < offset + size && offset < start + blob.Size)
                return blob;
        }
        return null;
    }
}
