using Microsoft.Win32.SafeHandles;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Memory;
using MiniVmm.Virtio.Queue;

namespace MiniVmm.Gpu.Backend;

/// <summary>RESOURCE_CREATE_BLOB, RESOURCE_ASSIGN_UUID and the blob half of RESOURCE_UNREF.</summary>
public sealed partial class Gpu2DBackend
{
    /// <summary>Blob sizes and host-visible offsets are in guest pages (Linux PAGE_ALIGNs them; KVM slots need it).</summary>
    public const ulong PageSize = 4096;

    private const uint KnownBlobFlags = VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE
        | VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE | VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_CROSS_DEVICE;

    private readonly Dictionary<uint, BlobResource> _blobs = []; // guarded by _lock

    /// <summary>
    /// RESOURCE_CREATE_BLOB. GUEST blobs are backed by the mem entries (checked like ATTACH_BACKING, and they must
    /// cover <paramref name="size"/>); HOST3D blobs get a zeroed memfd of <paramref name="size"/> bytes, counted
    /// against the host memory cap, and must name an existing context in <paramref name="ctxId"/>. In a cross-domain
    /// context the blob_id names either a compositor fd (a RECEIVE identifier: those pages) or a GET_IMAGE_REQUIREMENTS
    /// answer of that context with exactly its size, as crosvm enforces; anything else is ERR_UNSPEC. Other contexts
    /// (winsrv's keymaps aside) get fresh pages whatever the blob_id. HOST3D_GUEST needs a renderer we
    /// lack. A MAPPABLE guest blob is accepted (the guest maps its own pages) but cannot be MAP_BLOBbed.
    /// </summary>
    /// <param name="compositorFd">A compositor fd (winsrv's keymap) the HOST3D blob adopts instead of fresh pages;
    /// owned by this call, closed when the blob is refused.</param>
    public GpuResponse CreateBlob(GuestMemory memory, uint ctxId, uint resourceId, uint blobMem, uint flags, ulong blobId,
        ulong size, ReadOnlySpan<VirtioGpuMemEntry> entries, SafeFileHandle? compositorFd = null)
    {
        try
        {
            return CreateBlobChecked(memory, ctxId, resourceId, blobMem, flags, blobId, size, entries, ref compositorFd);
        }
        finally
        {
            compositorFd?.Dispose(); // null once a blob took it
        }
    }

    private GpuResponse CreateBlobChecked(GuestMemory memory, uint ctxId, uint resourceId, uint blobMem, uint flags, ulong blobId,
        ulong size, ReadOnlySpan<VirtioGpuMemEntry> entries, ref SafeFileHandle? compositorFd)
    {
        if (resourceId == 0)
            return GpuResponse.Err(VirtioGpuCtrlType.RESP_ERR_INVALID_RESOURCE_ID, "resource id 0 is reserved");
        if ((flags & ~KnownBlobFlags) != 0)
            return GpuResponse.ErrInvalidParameter($"unknown blob_flags 0x{flags:x}");
        if ((flags & VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_CROSS_DEVICE) != 0 && (flags & VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE) == 0)
            return GpuResponse.ErrInvalidParameter("USE_CROSS_DEVICE needs USE_SHAREABLE");
        if (size == 0 || size % PageSize != 0)
            return GpuResponse.ErrInvalidParameter($"blob size {size} is not a positive multiple of {PageSize}");
        if (size > (ulong)_options.MaxHostMemoryBytes)
            return GpuResponse.ErrInvalidParameter($"blob size {size} is more than the {_options.MaxHostMemoryBytes}-byte cap");
        return blobMem switch
        {
            VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_GUEST => CreateGuestBlob(memory, ctxId, resourceId, flags, size, entries),
            VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_HOST3D => CreateHostBlob(ctxId, resourceId, flags, blobId, size, entries.Length, ref compositorFd),
            VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST => GpuResponse.ErrInvalidParameter("blob_mem HOST3D_GUEST needs a 3D renderer"),
            _ => GpuResponse.ErrInvalidParameter($"unknown blob_mem {blobMem}"),
        };
    }

    private GpuResponse CreateGuestBlob(GuestMemory memory, uint ctxId, uint resourceId, uint flags, ulong size, ReadOnlySpan<VirtioGpuMemEntry> entries)
    {
        if (ValidateBacking(memory, entries, out var buffers) is { } invalid)
            return invalid;
        var backing = new BackingStore(buffers);
        if (backing.Length < size)
            return GpuResponse.ErrInvalidParameter($"mem entries cover {backing.Length} bytes, the blob is {size}");
        lock (_lock)
        {
            if (IdInUseLocked(resourceId))
                return GpuResponse.Err(VirtioGpuCtrlType.RESP_ERR_INVALID_RESOURCE_ID, $"resource {resourceId} already exists");
            if (Budget.TryCharge($"guest blob {resourceId}", HostBudget.PerObjectBytes + HostBudget.BackingCost(entries.Length),
                    objects: 1, entries: entries.Length) is { } refused)
                return refused;
            _blobs.Add(resourceId, new BlobResource(resourceId, VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_GUEST, flags, 0, size, null, backing, memory));
            AttachOnCreateLocked(ctxId, resourceId);
            return GpuResponse.OkNoData;
        }
    }

    private GpuResponse CreateHostBlob(uint ctxId, uint resourceId, uint flags, ulong blobId, ulong size, int entryCount, ref SafeFileHandle? compositorFd)
    {
        if (!_options.Contexts)
            return GpuResponse.ErrInvalidParameter("blob_mem HOST3D needs contexts (VIRTIO_GPU_F_VIRGL)");
        if (entryCount != 0)
            return GpuResponse.ErrInvalidParameter($"a HOST3D blob takes no mem entries, got {entryCount}");
        lock (_lock)
        {
            if (!HasContextLocked(ctxId))
                return GpuResponse.Err(VirtioGpuCtrlType.RESP_ERR_INVALID_CONTEXT_ID, $"HOST3D blob names no context ({ctxId})");
            if (IdInUseLocked(resourceId))
                return GpuResponse.Err(VirtioGpuCtrlType.RESP_ERR_INVALID_RESOURCE_ID, $"resource {resourceId} already exists");
            if (Budget.Refuse($"host blob {resourceId}", (long)size + HostBudget.PerObjectBytes, objects: 1, fds: 1) is { } refused)
                return refused;
            // A cross-domain blob_id may name a compositor fd (a RECEIVE identifier): those pages, not fresh ones.
            MappedMemfd? host;
            string? error = null;
            if (compositorFd is not null)
            {
                host = MemfdSeals.TryAdopt(compositorFd, size, $"minivmm-blob-{resourceId}", out error);
                compositorFd = null; // TryAdopt owns it now, and closes it on failure
            }
            else if (_contexts[ctxId].CrossDomain is { } crossDomain && crossDomain.TryTakeRegistered(blobId, size, out var fd, out error))
            {
                if (error is not null)
                    return GpuResponse.ErrInvalidParameter(error);
                host = MemfdSeals.TryAdopt(fd!, size, $"minivmm-blob-{resourceId}", out error);
            }
            else if (_contexts[ctxId].CrossDomain is { } queried && queried.CheckImageBlob(blobId, size) is { } notAnImage)
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
            _hostBytes += (long)size;
            Budget.TryCharge($"host blob {resourceId}", (long)size + HostBudget.PerObjectBytes, objects: 1, fds: 1); // fits: checked above
            AttachOnCreateLocked(ctxId, resourceId);
            return GpuResponse.OkNoData;
        }
    }

    /// <summary>
    /// RESOURCE_ASSIGN_UUID, for 2D and blob resources alike. The UUID is derived from the resource id (a SHA-256
    /// prefix shaped as a version-4 UUID): random-looking, unique per live resource, and the same every run.
    /// </summary>
    public GpuResponse AssignUuid(uint resourceId)
    {
        lock (_lock)
        {
            if (!IdInUseLocked(resourceId))
                return GpuResponse.ErrInvalidResourceId(resourceId);
        }
        Span<byte> seed = stackalloc byte[24];
        "minivmm-gpu-res"u8.CopyTo(seed);
        BitConverter.TryWriteBytes(seed[20..], resourceId);
        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(seed, hash);
        hash[6] = (byte)((hash[6] & 0x0f) | 0x40); // version 4
        hash[8] = (byte)((hash[8] & 0x3f) | 0x80); // RFC 4122 variant
        var response = new VirtioGpuRespResourceUuid();
        hash[..16].CopyTo(response.Uuid);
        return GpuResponse.WithStruct(VirtioGpuCtrlType.RESP_OK_RESOURCE_UUID, in response);
    }

    /// <summary>Mem entries as guest buffers, every one checked to lie in guest memory, or the error response.</summary>
    private static GpuResponse? ValidateBacking(GuestMemory memory, ReadOnlySpan<VirtioGpuMemEntry> entries, out GuestBuffer[] buffers)
    {
        buffers = new GuestBuffer[entries.Length];
        if (entries.Length > MaxBackingEntries)
            return GpuResponse.ErrInvalidParameter($"{entries.Length} backing entries, more than {MaxBackingEntries}");
        for (int i = 0; i < entries.Length; i++)
        {
            var address = new GuestAddress(entries[i].Addr);
            var error = memory.Locate(address, entries[i].Length, out _, out _);
            if (error != GuestMemoryError.None)
                return GpuResponse.ErrUnspec($"backing entry {i} at {address} (+0x{entries[i].Length:x}) is not in guest memory: {error}");
            buffers[i] = new GuestBuffer(address, entries[i].Length);
        }
        return null;
    }

    private bool IdInUseLocked(uint resourceId) => _resources.ContainsKey(resourceId) || _blobs.ContainsKey(resourceId);

    /// <summary>RESOURCE_UNREF of a blob: unmapped from the region first, taken off scanouts and contexts, pages freed.</summary>
    private GpuResponse UnrefBlobLocked(uint resourceId)
    {
        if (!_blobs.Remove(resourceId, out var blob))
            return GpuResponse.ErrInvalidResourceId(resourceId);
        if (blob.MappedOffset is { } offset)
        {
            _region?.Unmap(offset);
            blob.MappedOffset = null;
            _mappings--; // each mapped blob counts once, whether UNMAP_BLOB or UNREF ends the mapping
        }
        foreach (var scanout in _scanouts)
        {
            if (scanout.Blob?.Blob == blob)
                DisableLocked(scanout);
        }
        ForgetInContextsLocked(resourceId);
        Budget.Release(ChargeOf(blob), objects: 1, entries: blob.Guest?.EntryCount ?? 0, fds: blob.Host is null ? 0 : 1);
        if (blob.Host is { } host)
        {
            _hostBytes -= (long)host.Size;
            host.Dispose();
        }
        return GpuResponse.OkNoData;
    }

    private void DropBlobsLocked()
    {
        foreach (var id in _blobs.Keys.ToArray())
            UnrefBlobLocked(id);
        foreach (var context in _contexts.Values)
            context.CrossDomain?.Dispose();
        _contexts.Clear();
    }
}
