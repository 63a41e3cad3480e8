using Microsoft.Win32.SafeHandles;
using MiniVmm.CrossDomain;
using MiniVmm.Gpu.Protocol;
using MiniVmm.GuestProxy.Drm;
using MiniVmm.ProxyHost;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace MiniVmm.GuestProxy.Tests.Drm;

/// <summary>GEM objects: blob creation, the fake mmap offsets, mmap of the DRM file, PRIME export, GEM_CLOSE.</summary>
internal sealed unsafe partial class FakeVirtioGpuDrm
{
    private const ulong PageSize = 4096;
    private const ulong FirstMmapOffset = 1UL << 32; // DRM_FILE_PAGE_OFFSET_START, in bytes
    private const uint BlobFlagCrossDevice = 0x0004, BlobMemHost3dGuest = 0x0003;
    private readonly Dictionary<uint, GemObject> _handles = [];
    private readonly List<GemObject> _exported = []; // objects a dma-buf keeps alive after their handle went
    private readonly Dictionary<nint, ulong> _mappings = []; // user mappings of the DRM file still in place
    private readonly SortedDictionary<ulong, ulong> _regionUsed = []; // host-visible region: offset → size
    private uint _nextHandle = 1, _nextResource = 1;
    private ulong _nextMmapOffset = FirstMmapOffset;
    private ulong _nextGuestPage = InProcessGpu.MemorySize; // guest pages are handed out from the top down

    /// <summary>User mappings of the DRM file not unmapped (the kernel would keep their objects alive).</summary>
    public int LiveMappings
    {
        get
        {
            lock (_lock)
                return _mappings.Count;
        }
    }

    private sealed class GemObject(uint resourceId, ulong size, uint blobMem, uint blobFlags, ulong mmapOffset)
    {
        public uint ResourceId { get; } = resourceId;
        public ulong Size { get; } = size;
        public bool Host3d { get; } = blobMem == VirtGpuDrm.BlobMemHost3d;
        public uint BlobFlags { get; } = blobFlags;
        public ulong MmapOffset { get; } = mmapOffset;
        public List<ulong> GuestPages { get; } = [];
        public ulong? RegionOffset { get; set; } // where RESOURCE_MAP_BLOB put a mappable HOST3D blob
        public SafeFileHandle? Memfd { get; set; } // the pages behind that range, once the device mapped them
    }

    /// <summary>virtio_gpu_resource_create_blob_ioctl with verify_blob's checks; the handle attaches the resource to the context.</summary>
    private int CreateBlob(DrmVirtGpuResourceCreateBlob* blob)
    {
        const uint knownFlags = VirtGpuDrm.BlobFlagMappable | VirtGpuDrm.BlobFlagShareable | BlobFlagCrossDevice;
        if (!_hasBlob || (blob->BlobFlags & ~knownFlags) != 0 || (blob->BlobFlags & BlobFlagCrossDevice) != 0 && !_hasResourceUuid)
            return -EINVAL;
        var guest = blob->BlobMem is VirtGpuDrm.BlobMemGuest or BlobMemHost3dGuest;
        var host3d = blob->BlobMem is VirtGpuDrm.BlobMemHost3d or BlobMemHost3dGuest;
        if (!guest && !host3d)
            return -EINVAL;
        if (host3d && (!_hasVirgl || blob->CmdSize % 4 != 0))
            return -EINVAL;
        if (!host3d && (blob->BlobId != 0 || blob->CmdSize != 0))
            return -EINVAL;
        if (guest && host3d)
            return -EOPNOTSUPP; // HOST3D_GUEST: not modelled (the proxy never asks for it)
        if (blob->CmdSize != 0 || (blob->BlobFlags & BlobFlagCrossDevice) != 0)
            return -EOPNOTSUPP; // a command submitted with the blob, or a UUID for other devices: not modelled either
        if (_hasVirgl)
            CreateContext();
        var size = (blob->Size + PageSize - 1) & ~(PageSize - 1); // both allocators round up to whole pages
        if (size == 0)
            return -EINVAL; // no GEM object of zero pages
        var created = new GemObject(_nextResource++, size, blob->BlobMem, blob->BlobFlags, _nextMmapOffset);
        _nextMmapOffset += size;
        var result = host3d ? CreateHost3d(created, blob->BlobId) : CreateGuest(created);
        if (result < 0)
            return result;
        var handle = _nextHandle++;
        _handles[handle] = created;
        if (_hasVirgl)
            Queue(CrossDomainWire.Bytes(new VirtioGpuCtxResource { Hdr = Header(VirtioGpuCtrlType.CMD_CTX_ATTACH_RESOURCE), ResourceId = created.ResourceId }), created.ResourceId);
        blob->BoHandle = handle;
        blob->ResHandle = created.ResourceId;
        return 0;
    }

    /// <summary>A shmem object: guest pages (scattered, as the page allocator gives them) listed as mem entries; no context.</summary>
    private int CreateGuest(GemObject created)
    {
        var pages = created.Size / PageSize;
        if (_nextGuestPage - pages * PageSize < InProcessGpu.GuestPagesStart)
            return -ENOMEM;
        var entries = new byte[pages * 16];
        for (ulong i = 0; i < pages; i++)
        {
            _nextGuestPage -= PageSize;
            created.GuestPages.Add(_nextGuestPage);
            _gpu.Memory.Write(new Memory.GuestAddress(_nextGuestPage), new byte[PageSize]); // shmem pages start zeroed
            CrossDomainWire.Bytes(new VirtioGpuMemEntry { Addr = _nextGuestPage, Length = (uint)PageSize }).CopyTo(entries, (int)i * 16);
        }
        Queue(CrossDomainWire.Bytes(new VirtioGpuResourceCreateBlob
        {
            Hdr = Header(VirtioGpuCtrlType.CMD_RESOURCE_CREATE_BLOB, ctxId: 0), // ctx_id is only set for HOST3D blobs
            ResourceId = created.ResourceId,
            BlobMem = VirtGpuDrm.BlobMemGuest,
            BlobFlags = created.BlobFlags,
            NrEntries = (uint)pages,
            Size = created.Size,
        }), created.ResourceId, entries);
        return 0;
    }

    /// <summary>virtio_gpu_vram_create: CREATE_BLOB in the context; a mappable one is mapped into the region at once.</summary>
    private int CreateHost3d(GemObject created, ulong blobId)
    {
        Queue(CrossDomainWire.Bytes(new VirtioGpuResourceCreateBlob
        {
            Hdr = Header(VirtioGpuCtrlType.CMD_RESOURCE_CREATE_BLOB),
            ResourceId = created.ResourceId,
            BlobMem = VirtGpuDrm.BlobMemHost3d,
            BlobFlags = created.BlobFlags,
            BlobId = blobId,
            Size = created.Size,
        }), created.ResourceId);
        if ((created.BlobFlags & VirtGpuDrm.BlobFlagMappable) == 0)
            return 0;
        var offset = AllocateRegion(created.Size);
        if (offset is null)
        {
            Free(created);
            return -ENOSPC; // drm_mm found no room in the host-visible region
        }
        created.RegionOffset = offset;
        var map = Queue(CrossDomainWire.Bytes(new VirtioGpuResourceMapBlob { Hdr = Header(VirtioGpuCtrlType.CMD_RESOURCE_MAP_BLOB), ResourceId = created.ResourceId, Offset = offset.Value }),
            created.ResourceId, responseSize: 32);
        // The kernel only records the map state here; an mmap of a blob the device did not map fails later.
        if (map.Type == (uint)VirtioGpuCtrlType.RESP_OK_MAP_INFO)
            created.Memfd = _gpu.Region.TakeLastMapped();
        return 0;
    }

    /// <summary>DRM_IOCTL_VIRTGPU_MAP (virtio_gpu_mode_dumb_mmap): the object's fake offset for mmap.</summary>
    private int MapOffset(DrmVirtGpuMap* map)
    {
        if (!_handles.TryGetValue(map->Handle, out var found))
            return -ENOENT;
        map->Offset = found.MmapOffset;
        return 0;
    }

    public void* Map(ulong offset, ulong length, out int error)
    {
        lock (_lock)
        {
            error = MapLocked(offset, length, out var address);
            if (error == 0)
                _mappings[(nint)address] = length;
            return address;
        }
    }

    public void Unmap(void* address, ulong length)
    {
        lock (_lock)
        {
            Assert.True(_mappings.Remove((nint)address), "munmap of an address the DRM file never mapped");
            _ = munmap(address, (size_t)length);
        }
    }

    /// <summary>drm_gem_mmap: an exact offset of an object this file holds a handle to, no longer than it.</summary>
    private int MapLocked(ulong offset, ulong length, out void* address)
    {
        address = null;
        var found = _handles.Values.FirstOrDefault(o => o.MmapOffset == offset);
        if (found is null || length == 0 || length > found.Size)
            return found is null && _exported.Any(o => o.MmapOffset == offset) ? -EACCES : -EINVAL;
        if (!found.Host3d)
            return MapGuestPages(found, length, out address);
        // virtio_gpu_vram_mmap: mappable, mapped by the device, and the whole range (no partial mappings).
        if ((found.BlobFlags & VirtGpuDrm.BlobFlagMappable) == 0 || found.Memfd is null || length != found.Size)
            return -EINVAL;
        var mapping = mmap(null, (size_t)length, PROT_READ | PROT_WRITE, MAP_SHARED, (int)found.Memfd.DangerousGetHandle(), 0);
        if (mapping == (void*)-1)
            return -errno;
        address = mapping;
        return 0;
    }

    /// <summary>A shmem object's pages, one by one from guest RAM's memfd, into one range of this process.</summary>
    private int MapGuestPages(GemObject found, ulong length, out void* address)
    {
        address = null;
        var ram = _gpu.Memory.Regions[0];
        var range = (byte*)mmap(null, (size_t)length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (range == (byte*)-1)
            return -errno;
        for (var i = 0; (ulong)i * PageSize < length; i++)
        {
            var page = mmap(range + (ulong)i * PageSize, (size_t)PageSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, ram.Fd, (long)(found.GuestPages[i] - ram.Start.Value));
            if (page == (void*)-1)
            {
                var error = -errno;
                _ = munmap(range, (size_t)length);
                return error;
            }
        }
        address = range;
        return 0;
    }

    /// <summary>drm_prime_handle_to_fd_ioctl: a dma-buf of the object; it keeps the object (and its resource) alive.</summary>
    private int PrimeHandleToFd(DrmPrimeHandle* prime)
    {
        if ((prime->Flags & ~(VirtGpuDrm.DrmCloexec | VirtGpuDrm.DrmRdwr)) != 0)
            return -EINVAL;
        if (!_handles.TryGetValue(prime->Handle, out var found))
            return -ENOENT;
        if (found.Memfd is null)
            return -EOPNOTSUPP; // the model hands out a HOST3D blob's mapped pages; other exports are not modelled
        var fd = fcntl((int)found.Memfd.DangerousGetHandle(), (prime->Flags & VirtGpuDrm.DrmCloexec) != 0 ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
        if (fd < 0)
            return -errno;
        if (!_exported.Contains(found))
            _exported.Add(found);
        prime->Fd = fd;
        return 0;
    }

    /// <summary>
    /// drm_gem_handle_delete: an unknown handle is EINVAL. The handle's close detaches the resource from the context;
    /// the object goes (UNMAP_BLOB, RESOURCE_UNREF) unless a dma-buf still holds it. The model cannot see a dma-buf
    /// fd being closed, so an exported object lives until the file is closed.
    /// </summary>
    private int GemClose(uint handle)
    {
        if (!_handles.Remove(handle, out var closed))
            return -EINVAL;
        if (_hasVirgl)
            Queue(CrossDomainWire.Bytes(new VirtioGpuCtxResource { Hdr = Header(VirtioGpuCtrlType.CMD_CTX_DETACH_RESOURCE), ResourceId = closed.ResourceId }), closed.ResourceId);
        if (!_exported.Contains(closed))
            Free(closed);
        return 0;
    }

    private void Free(GemObject freed)
    {
        if (freed.RegionOffset is { } offset)
        {
            Queue(CrossDomainWire.Bytes(new VirtioGpuResourceUnmapBlob { Hdr = Header(VirtioGpuCtrlType.CMD_RESOURCE_UNMAP_BLOB), ResourceId = freed.ResourceId }), freed.ResourceId);
            _regionUsed.Remove(offset);
        }
        freed.Memfd?.Dispose();
        Queue(CrossDomainWire.Bytes(new VirtioGpuResourceUnref { Hdr = Header(VirtioGpuCtrlType.CMD_RESOURCE_UNREF), ResourceId = freed.ResourceId }), freed.ResourceId);
    }

    /// <summary>First fit in the host-visible region (the kernel's drm_mm over the BAR).</summary>
    private ulong? AllocateRegion(ulong size)
    {
        ulong at = 0;
        foreach (var (offset, used) in _regionUsed)
        {
            if (offset - at >= size)
                break;
            at = offset + used;
        }
        if (at + size > InProcessGpu.RegionSize)
            return null;
        _regionUsed[at] = size;
        return at;
    }
}
