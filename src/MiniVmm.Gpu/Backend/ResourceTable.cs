using System.Diagnostics.CodeAnalysis;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Gpu.Winsrv;
using MiniVmm.Memory;
using MiniVmm.Virtio.Queue;

namespace MiniVmm.Gpu.Backend;

/// <summary>
/// The 2D resources by id (RESOURCE_CREATE_2D): their host pixels and guest backing, and the only paths from guest
/// pages to host pixels (ATTACH_BACKING, DETACH_BACKING, TRANSFER_TO_HOST_2D). Charges the shared host budget.
/// Not thread-safe: <see cref="VirtioGpuBackend"/> calls it with the resource lock held.
/// </summary>
internal sealed class ResourceTable(HostBudget budget)
{
    private readonly Dictionary<uint, Resource2D> _resources = [];

    public int Count => _resources.Count;

    public bool Contains(uint resourceId) => _resources.ContainsKey(resourceId);

    public bool TryGet(uint resourceId, [MaybeNullWhen(false)] out Resource2D resource) => _resources.TryGetValue(resourceId, out resource);

    /// <summary>What RESOURCE_CREATE_2D may ask, checked before the lock: the error, or null and the pixel bytes.</summary>
    public static GpuResponse? CheckNew(uint resourceId, uint format, uint width, uint height, out ulong bytes)
    {
        bytes = 0;
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
        bytes = pixels * PixelFormats.BytesPerPixel;
        return null;
    }

    /// <summary>RESOURCE_CREATE_2D of an id no resource or blob uses, after <see cref="CheckNew"/>.</summary>
    public GpuResponse Create(uint resourceId, uint format, uint width, uint height, ulong bytes)
    {
        if (budget.TryCharge($"{width}x{height} resource", (long)bytes + HostBudget.PerObjectBytes, objects: 1) is { } refused)
            return refused;
        _resources.Add(resourceId, new Resource2D(resourceId, (VirtioGpuFormat)format, width, height, new byte[bytes]));
        budget.HostBytes += (long)bytes;
        return GpuResponse.OkNoData;
    }

    /// <summary>
    /// RESOURCE_UNREF of a 2D resource: pixels, backing and winsrv share released. Null when no such resource; the
    /// caller takes it off scanouts and contexts.
    /// </summary>
    public Resource2D? Remove(uint resourceId)
    {
        if (!_resources.Remove(resourceId, out var resource))
            return null;
        budget.HostBytes -= resource.Pixels.LongLength;
        budget.Release(resource.Pixels.LongLength + HostBudget.PerObjectBytes, objects: 1);
        ReleaseBacking(resource.Backing);
        resource.Backing = null;
        WinsrvMemfds.Unshare(resource, budget);
        return resource;
    }

    /// <summary>Device reset: every resource goes; the caller clears the budget.</summary>
    public void Clear()
    {
        foreach (var resource in _resources.Values)
            WinsrvMemfds.Unshare(resource, budget);
        _resources.Clear();
    }

    /// <summary>RESOURCE_ATTACH_BACKING with entries <see cref="BackingStore.CheckEntries"/> accepted.</summary>
    public GpuResponse AttachBacking(GuestMemory memory, uint resourceId, GuestBuffer[] buffers)
    {
        if (!_resources.TryGetValue(resourceId, out var resource))
            return GpuResponse.ErrInvalidResourceId(resourceId);
        if (resource.Backing is not null)
            return GpuResponse.ErrUnspec($"resource {resourceId} already has backing");
        if (budget.TryCharge($"backing of resource {resourceId}", HostBudget.BackingCost(buffers.Length), entries: buffers.Length) is { } refused)
            return refused;
        resource.Backing = new BackingStore(buffers);
        resource.BackingMemory = memory;
        return GpuResponse.OkNoData;
    }

    /// <summary>RESOURCE_DETACH_BACKING.</summary>
    public GpuResponse DetachBacking(uint resourceId)
    {
        if (!_resources.TryGetValue(resourceId, out var resource))
            return GpuResponse.ErrInvalidResourceId(resourceId);
        if (resource.Backing is null)
            return GpuResponse.ErrUnspec($"resource {resourceId} has no backing");
        ReleaseBacking(resource.Backing);
        resource.Backing = null;
        resource.BackingMemory = null;
        return GpuResponse.OkNoData;
    }

    /// <summary>
    /// TRANSFER_TO_HOST_2D: copies rect <paramref name="r"/> from the backing into the host pixels. Row y of the
    /// rect is read at <paramref name="offset"/> + y * stride of the backing (the layout Linux uses: offset is
    /// the rect's first byte in a buffer with the resource's stride). The whole source range is checked before
    /// anything is copied; the copy then moves the largest guest spans the backing and guest memory allow.
    /// </summary>
    public GpuResponse TransferToHost2D(GuestMemory memory, uint resourceId, VirtioGpuRect r, ulong offset)
    {
        if (!_resources.TryGetValue(resourceId, out var resource))
            return GpuResponse.ErrInvalidResourceId(resourceId);
        if (!resource.Contains(in r))
            return GpuResponse.ErrInvalidParameter($"transfer rect {r} is not inside resource {resourceId} ({resource.Width}x{resource.Height})");
        if (resource.Backing is not { } backing)
            return GpuResponse.ErrUnspec($"resource {resourceId} has no backing");
        if (r.Width == 0 || r.Height == 0)
            return GpuResponse.OkNoData;

        ulong stride = (ulong)resource.Stride;
        ulong rowBytes = (ulong)r.Width * PixelFormats.BytesPerPixel;
        // Last byte read: offset + (height - 1) * stride + rowBytes; each term is < 2^40, the offset is the guest's.
        ulong span = (r.Height - 1UL) * stride + rowBytes;
        if (offset > backing.Length || span > backing.Length - offset)
            return GpuResponse.ErrInvalidParameter(
                $"transfer of {r} at offset {offset} needs {span} bytes, backing has {backing.Length}");

        // Full-width rows lie back to back in the backing and in the pixels alike: one copy moves them all.
        bool wholeRows = rowBytes == stride;
        uint copies = wholeRows ? 1 : r.Height;
        int copyBytes = (int)(wholeRows ? span : rowBytes); // at most the resource's size, which fits an array
        for (uint row = 0; row < copies; row++)
        {
            int destination = (int)(r.Y + row) * resource.Stride + (int)r.X * PixelFormats.BytesPerPixel;
            var error = backing.TryRead(memory, offset + row * stride, resource.Pixels.AsSpan(destination, copyBytes));
            if (error != GuestMemoryError.None)
                return GpuResponse.ErrUnspec($"backing of resource {resourceId} is no longer readable: {error}");
            // A resource shared over winsrv: the compositor's memfd sees the same rows (same stride, same offsets).
            if (resource.Shared is { } shared)
                resource.Pixels.AsSpan(destination, copyBytes).CopyTo(shared.GetSpan((ulong)destination, copyBytes));
        }
        return GpuResponse.OkNoData;
    }

    private void ReleaseBacking(BackingStore? backing)
    {
        if (backing is not null)
            budget.Release(HostBudget.BackingCost(backing.EntryCount), entries: backing.EntryCount);
    }
}
