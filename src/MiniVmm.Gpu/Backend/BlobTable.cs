using System.Diagnostics.CodeAnalysis;
using Microsoft.Win32.SafeHandles;
using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Memory;
using MiniVmm.Virtio.Queue;

namespace MiniVmm.Gpu.Backend;

/// <summary>
/// The blob resources by id (RESOURCE_CREATE_BLOB) and their place in the host-visible region (MAP_BLOB, UNMAP_BLOB,
/// and the count of mapped blobs, each a KVM memory slot). Charges the shared host budget.
/// Not thread-safe: <see cref="VirtioGpuBackend"/> calls it with the resource lock held.
/// </summary>
internal sealed class BlobTable(HostBudget budget, IHostVisibleRegion? region)
{
    private const uint KnownBlobFlags = VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE
        | VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE | VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_CROSS_DEVICE;

    private readonly Dictionary<uint, BlobResource> _blobs = [];
    private int _mappings; // blobs with a MappedOffset

    public int Count => _blobs.Count;

    /// <summary>MAP_BLOB and UNMAP_BLOB on a device without a host-visible region: refused before any id is looked at.</summary>
    public GpuResponse? RefuseWithoutRegion() => region is null ? GpuResponse.ErrUnspec("the device has no host-visible region") : null;

    public bool Contains(uint resourceId) => _blobs.ContainsKey(resourceId);

    public bool TryGet(uint resourceId, [MaybeNullWhen(false)] out BlobResource blob) => _blobs.TryGetValue(resourceId, out blob);

    /// <summary>What RESOURCE_CREATE_BLOB may ask whatever its blob_mem, checked before the lock.</summary>
    public static GpuResponse? CheckNew(uint resourceId, uint flags, ulong size, long maxHostMemoryBytes)
    {
        if (resourceId == 0)
            return GpuResponse.Err(VirtioGpuCtrlType.RESP_ERR_INVALID_RESOURCE_ID, "resource id 0 is reserved");
        if ((flags & ~KnownBlobFlags) != 0)
            return GpuResponse.ErrInvalidParameter($"unknown blob_flags 0x{flags:x}");
        if ((flags & VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_CROSS_DEVICE) != 0 && (flags & VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE) == 0)
            return GpuResponse.ErrInvalidParameter("USE_CROSS_DEVICE needs USE_SHAREABLE");
        if (size == 0 || size % VirtioGpuBackend.PageSize != 0)
            return GpuResponse.ErrInvalidParameter($"blob size {size} is not a positive multiple of {VirtioGpuBackend.PageSize}");
        if (size > (ulong)maxHostMemoryBytes)
            return GpuResponse.ErrInvalidParameter($"blob size {size} is more than the {maxHostMemoryBytes}-byte cap");
        return null;
    }

    /// <summary>A GUEST blob over <paramref name="backing"/>, whose entries were checked and cover the size.</summary>
    public GpuResponse CreateGuest(GuestMemory memory, uint resourceId, uint flags, ulong size, BackingStore backing)
    {
        if (budget.TryCharge($"guest blob {resourceId}", HostBudget.PerObjectBytes + HostBudget.BackingCost(backing.EntryCount),
                objects: 1, entries: backing.EntryCount) is { } refused)
            return refused;
        _blobs.Add(resourceId, new BlobResource(resourceId, VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_GUEST, flags, 0, size, null, backing, memory));
        return GpuResponse.OkNoData;
    }

    /// <summary>
    /// A HOST3D blob: a compositor fd it adopts (<paramref name="compositorFd"/>, taken and set to null), else the
    /// compositor fd a cross-domain context parked as <paramref name="blobId"/>, else fresh zeroed pages, which a
    /// cross-domain context only grants for one of its GET_IMAGE_REQUIREMENTS answers.
    /// </summary>
    public GpuResponse CreateHost(uint resourceId, uint flags, ulong blobId, ulong size, CrossDomainContext? crossDomain,
        ref SafeFileHandle? compositorFd)
    {
        if (budget.Refuse($"host blob {resourceId}", (long)size + HostBudget.PerObjectBytes, objects: 1, fds: 1) is { } refused)
            return refused;
        // A cross-domain blob_id may name a compositor fd (a RECEIVE identifier): those pages, not fresh ones.
        MappedMemfd? host;
        string? error = null;
        if (compositorFd is not null)
        {
            host = MemfdSeals.TryAdopt(compositorFd, size, $"minivmm-blob-{resourceId}", out error);
            compositorFd = null; // TryAdopt owns it now, and closes it on failure
        }
        else if (crossDomain is not null && crossDomain.TryTakeRegistered(blobId, size, out var fd, out error))
        {
            if (error is not null)
                return GpuResponse.ErrInvalidParameter(error);
            host = MemfdSeals.TryAdopt(fd!, size, $"minivmm-blob-{resourceId}", out error);
        }
        else if (crossDomain?.CheckImageBlob(blobId, size) is { } notAnImage)
        {
            // crosvm answers every rutabaga error, InvalidCrossDomainItemId included, with ERR_UNSPEC
            // (devices/src/virtio/gpu/protocol.rs `encode`).
            return GpuResponse.ErrUnspec(notAnImage);
        }
        else
            host = MappedMemfd.TryCreate($"minivmm-blob-{resourceId}", size, out error);
        if (host is null)
            return GpuResponse.ErrOutOfMemory(error ?? "memfd failed");
        _blobs.Add(resourceId, new BlobResource(resourceId, VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_HOST3D, flags, blobId, size, host, null, null));
        budget.HostBytes += (long)size;
        budget.TryCharge($"host blob {resourceId}", (long)size + HostBudget.PerObjectBytes, objects: 1, fds: 1); // fits: checked above
        return GpuResponse.OkNoData;
    }

    /// <summary>
    /// RESOURCE_UNREF of a blob: unmapped from the region first, its pages freed. Null when no such blob; the caller
    /// takes it off scanouts and contexts.
    /// </summary>
    public BlobResource? Remove(uint resourceId)
    {
        if (!_blobs.Remove(resourceId, out var blob))
            return null;
        if (blob.MappedOffset is { } offset)
        {
            region?.Unmap(offset);
            blob.MappedOffset = null;
            _mappings--; // each mapped blob counts once, whether UNMAP_BLOB or UNREF ends the mapping
        }
        budget.Release(blob.Charge, objects: 1, entries: blob.Guest?.EntryCount ?? 0, fds: blob.Host is null ? 0 : 1);
        if (blob.Host is { } host)
        {
            budget.HostBytes -= (long)host.Size;
            host.Dispose();
        }
        return blob;
    }

    /// <summary>Device reset: every blob is unmapped and freed, and returned so the caller takes it off scanouts.</summary>
    public BlobResource[] Clear()
    {
        var removed = _blobs.Keys.ToArray().Select(id => Remove(id)!).ToArray();
        _mappings = 0; // Remove unmapped every blob; nothing may outlive a reset
        return removed;
    }

    /// <summary>
    /// RESOURCE_MAP_BLOB of <paramref name="blob"/> at <paramref name="offset"/> of the region. The blob must be a
    /// MAPPABLE host blob, not mapped yet; [offset, offset + size) must be page aligned, inside the region and clear of
    /// every other mapping. The region has made the pages visible before this returns, so the guest may touch them at
    /// once. Answers map_info CACHE_CACHED: the pages are ordinary host RAM.
    /// </summary>
    public GpuResponse Map(BlobResource blob, ulong offset)
    {
        var window = region!; // the caller asked RefuseWithoutRegion first
        uint resourceId = blob.Id;
        if ((blob.Flags & VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE) == 0)
            return GpuResponse.ErrInvalidParameter($"blob {resourceId} was not created USE_MAPPABLE");
        if (blob.Host is not { } host)
            return GpuResponse.ErrInvalidParameter($"blob {resourceId} is guest memory; the guest maps its own pages");
        if (blob.MappedOffset is { } existing)
            return GpuResponse.ErrInvalidParameter($"blob {resourceId} is already mapped at 0x{existing:x}");
        if (offset % VirtioGpuBackend.PageSize != 0)
            return GpuResponse.ErrInvalidParameter($"offset 0x{offset:x} is not page aligned");
        if (offset > window.Size || blob.Size > window.Size - offset)
            return GpuResponse.ErrInvalidParameter($"0x{offset:x}+0x{blob.Size:x} is outside the 0x{window.Size:x}-byte region");
        if (Overlapping(offset, blob.Size) is { } other)
            return GpuResponse.ErrInvalidParameter($"0x{offset:x}+0x{blob.Size:x} overlaps blob {other.Id} at 0x{other.MappedOffset:x}+0x{other.Size:x}");
        if (_mappings >= VirtioGpuBackend.MaxMappings)
            return GpuResponse.ErrOutOfMemory($"{VirtioGpuBackend.MaxMappings} blobs are mapped already");
        if (!window.TryMap(offset, blob.Size, host.Fd, out string? error))
            return GpuResponse.ErrUnspec($"mapping blob {resourceId} failed: {error}");
        blob.MappedOffset = offset;
        _mappings++;
        var info = new VirtioGpuRespMapInfo { MapInfo = VirtioGpuConstants.VIRTIO_GPU_MAP_CACHE_CACHED };
        return GpuResponse.WithStruct(VirtioGpuCtrlType.RESP_OK_MAP_INFO, in info);
    }

    /// <summary>RESOURCE_UNMAP_BLOB: the range becomes a hole again (guest accesses are MMIO exits).</summary>
    public GpuResponse Unmap(BlobResource blob)
    {
        var window = region!; // the caller asked RefuseWithoutRegion first
        if (blob.MappedOffset is not { } offset)
            return GpuResponse.ErrInvalidParameter($"blob {blob.Id} is not mapped");
        window.Unmap(offset);
        blob.MappedOffset = null;
        _mappings--;
        return GpuResponse.OkNoData;
    }

    /// <summary>The mapped blob that shares a byte with [offset, offset + size), if any. Both ranges are inside the region, so no sum overflows.</summary>
    private BlobResource? Overlapping(ulong offset, ulong size)
    {
        foreach (var blob in _blobs.Values)
        {
            if (blob.MappedOffset is { } start && start < offset + size && offset < start + blob.Size)
                return blob;
        }
        return null;
    }
}
