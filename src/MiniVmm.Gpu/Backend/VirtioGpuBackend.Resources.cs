using Microsoft.Win32.SafeHandles;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Memory;

namespace MiniVmm.Gpu.Backend;

// Resource, blob, scanout and cursor commands: each checks what it can before the lock, then takes the resource lock
// and hands the work to the table that owns it; frames and cursor updates reach the sink after the lock.
public sealed partial class VirtioGpuBackend
{
    /// <summary>GET_DISPLAY_INFO: scanout 0 enabled at the configured size; the others listed but disabled.</summary>
    public GpuResponse GetDisplayInfo() => _scanouts.GetDisplayInfo();

    /// <summary>GET_EDID for <paramref name="scanoutId"/>: the 128-byte base block for the configured mode.</summary>
    public GpuResponse GetEdid(uint scanoutId) => _scanouts.GetEdid(scanoutId);

    /// <summary>RESOURCE_CREATE_2D.</summary>
    public GpuResponse CreateResource2D(uint resourceId, uint format, uint width, uint height)
    {
        if (ResourceTable.CheckNew(resourceId, format, width, height, out ulong bytes) is { } invalid)
            return invalid;
        lock (_lock)
            return RefuseIdInUseLocked(resourceId) ?? _resources.Create(resourceId, format, width, height, bytes);
    }

    /// <summary>RESOURCE_UNREF, of a 2D resource or a blob: also taken off scanouts and contexts.</summary>
    public GpuResponse UnrefResource(uint resourceId)
    {
        try
        {
            lock (_lock)
            {
                if (_resources.Remove(resourceId) is not { } resource)
                    return UnrefBlobLocked(resourceId);
                _contexts.Forget(resourceId);
                _scanouts.DisableShowing(resource);
                return GpuResponse.OkNoData;
            }
        }
        finally
        {
            _sinkCalls.Deliver();
        }
    }

    /// <summary>RESOURCE_ATTACH_BACKING: every entry is validated before any is attached.</summary>
    public GpuResponse AttachBacking(GuestMemory memory, uint resourceId, ReadOnlySpan<VirtioGpuMemEntry> entries)
    {
        if (BackingStore.CheckEntries(memory, entries, out var buffers) is { } invalid)
            return invalid;
        lock (_lock)
            return _resources.AttachBacking(memory, resourceId, buffers);
    }

    /// <summary>RESOURCE_DETACH_BACKING.</summary>
    public GpuResponse DetachBacking(uint resourceId)
    {
        lock (_lock)
            return _resources.DetachBacking(resourceId);
    }

    /// <summary>TRANSFER_TO_HOST_2D (<see cref="ResourceTable.TransferToHost2D"/>).</summary>
    public GpuResponse TransferToHost2D(GuestMemory memory, uint resourceId, VirtioGpuRect r, ulong offset)
    {
        lock (_lock)
            return _resources.TransferToHost2D(memory, resourceId, r, offset);
    }

    /// <summary>SET_SCANOUT: shows <paramref name="r"/> of a resource on a scanout; resource 0 disables it.</summary>
    public GpuResponse SetScanout(uint scanoutId, uint resourceId, VirtioGpuRect r)
    {
        if (!_scanouts.TryGet(scanoutId, out var scanout))
            return GpuResponse.ErrInvalidScanoutId(scanoutId);
        try
        {
            lock (_lock)
            {
                if (resourceId == 0)
                {
                    _scanouts.Disable(scanout);
                    return GpuResponse.OkNoData;
                }
                return _resources.TryGet(resourceId, out var resource)
                    ? _scanouts.Show(scanout, resource, r)
                    : GpuResponse.ErrInvalidResourceId(resourceId);
            }
        }
        finally
        {
            _sinkCalls.Deliver();
        }
    }

    /// <summary>
    /// SET_SCANOUT_BLOB: shows rect <paramref name="r"/> of a <paramref name="width"/> x <paramref name="height"/>
    /// framebuffer stored in a blob (<see cref="ScanoutSet.ShowBlob"/>); resource 0 disables.
    /// </summary>
    public GpuResponse SetScanoutBlob(uint scanoutId, uint resourceId, VirtioGpuRect r, uint width, uint height, uint format,
        uint stride, ulong offset)
    {
        if (!_scanouts.TryGet(scanoutId, out var scanout))
            return GpuResponse.ErrInvalidScanoutId(scanoutId);
        if (resourceId != 0 && ScanoutSet.CheckFramebuffer(r, width, height, format, stride) is { } invalid)
            return invalid;
        try
        {
            lock (_lock)
            {
                if (resourceId == 0)
                {
                    _scanouts.Disable(scanout);
                    return GpuResponse.OkNoData;
                }
                return FindBlobLocked(resourceId, out var blob)
                    ?? _scanouts.ShowBlob(scanout, blob, r, width, height, format, stride, offset);
            }
        }
        finally
        {
            _sinkCalls.Deliver();
        }
    }

    /// <summary>RESOURCE_FLUSH: presents the part of <paramref name="r"/> that each scanout showing the resource covers.</summary>
    public GpuResponse FlushResource(uint resourceId, VirtioGpuRect r)
    {
        try
        {
            lock (_lock)
            {
                if (_resources.TryGet(resourceId, out var resource))
                    return _scanouts.Flush(resource, r);
                return _blobs.TryGet(resourceId, out var blob) ? _scanouts.FlushBlob(blob, r) : GpuResponse.ErrInvalidResourceId(resourceId);
            }
        }
        finally
        {
            _sinkCalls.Deliver();
        }
    }

    /// <summary>UPDATE_CURSOR: resource 0 hides the cursor; otherwise the resource must be 64x64.</summary>
    public GpuResponse UpdateCursor(in VirtioGpuCursorPos pos, uint resourceId, uint hotX, uint hotY)
    {
        if (!_scanouts.TryGet(pos.ScanoutId, out _))
            return GpuResponse.ErrInvalidScanoutId(pos.ScanoutId);
        try
        {
            lock (_lock)
            {
                Resource2D? resource = null;
                if (resourceId != 0 && !_resources.TryGet(resourceId, out resource))
                    return GpuResponse.ErrInvalidResourceId(resourceId);
                return _cursor.Update(in pos, resource, hotX, hotY);
            }
        }
        finally
        {
            _sinkCalls.Deliver();
        }
    }

    /// <summary>MOVE_CURSOR: only the position changes.</summary>
    public GpuResponse MoveCursor(in VirtioGpuCursorPos pos)
    {
        if (!_scanouts.TryGet(pos.ScanoutId, out _))
            return GpuResponse.ErrInvalidScanoutId(pos.ScanoutId);
        try
        {
            lock (_lock)
                return _cursor.Move(in pos);
        }
        finally
        {
            _sinkCalls.Deliver();
        }
    }

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
            if (BlobTable.CheckNew(resourceId, flags, size, _options.MaxHostMemoryBytes) is { } invalid)
                return invalid;
            return blobMem switch
            {
                VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_GUEST => CreateGuestBlob(memory, ctxId, resourceId, flags, size, entries),
                VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_HOST3D => CreateHostBlob(ctxId, resourceId, flags, blobId, size, entries.Length, ref compositorFd),
                VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST => GpuResponse.ErrInvalidParameter("blob_mem HOST3D_GUEST needs a 3D renderer"),
                _ => GpuResponse.ErrInvalidParameter($"unknown blob_mem {blobMem}"),
            };
        }
        finally
        {
            compositorFd?.Dispose(); // null once a blob took it
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

    /// <summary>RESOURCE_MAP_BLOB (<see cref="BlobTable.Map"/>).</summary>
    public GpuResponse MapBlob(uint resourceId, ulong offset)
    {
        if (_blobs.RefuseWithoutRegion() is { } refused)
            return refused;
        lock (_lock)
            return FindBlobLocked(resourceId, out var blob) ?? _blobs.Map(blob, offset);
    }

    /// <summary>RESOURCE_UNMAP_BLOB (<see cref="BlobTable.Unmap"/>).</summary>
    public GpuResponse UnmapBlob(uint resourceId)
    {
        if (_blobs.RefuseWithoutRegion() is { } refused)
            return refused;
        lock (_lock)
            return FindBlobLocked(resourceId, out var blob) ?? _blobs.Unmap(blob);
    }

    private GpuResponse CreateGuestBlob(GuestMemory memory, uint ctxId, uint resourceId, uint flags, ulong size, ReadOnlySpan<VirtioGpuMemEntry> entries)
    {
        if (BackingStore.CheckEntries(memory, entries, out var buffers) is { } invalid)
            return invalid;
        var backing = new BackingStore(buffers);
        if (backing.Length < size)
            return GpuResponse.ErrInvalidParameter($"mem entries cover {backing.Length} bytes, the blob is {size}");
        lock (_lock)
        {
            var response = RefuseIdInUseLocked(resourceId) ?? _blobs.CreateGuest(memory, resourceId, flags, size, backing);
            if (!response.IsError)
                _contexts.AttachOnCreate(ctxId, resourceId);
            return response;
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
            if (!_contexts.TryGet(ctxId, out var context))
                return GpuResponse.Err(VirtioGpuCtrlType.RESP_ERR_INVALID_CONTEXT_ID, $"HOST3D blob names no context ({ctxId})");
            var response = RefuseIdInUseLocked(resourceId)
                ?? _blobs.CreateHost(resourceId, flags, blobId, size, context.CrossDomain, ref compositorFd);
            if (!response.IsError)
                _contexts.AttachOnCreate(ctxId, resourceId);
            return response;
        }
    }
}
