using MiniVmm.Gpu.Protocol;
using MiniVmm.Memory;
using MiniVmm.Virtio.Queue;

namespace MiniVmm.Gpu.Backend;

/// <summary>ATTACH_BACKING, DETACH_BACKING and TRANSFER_TO_HOST_2D: the only paths from guest pages to host pixels.</summary>
public sealed partial class Gpu2DBackend
{
    /// <summary>
    /// Most mem entries one ATTACH_BACKING may carry: a 256 MiB resource in 4 KiB pages is 65536, so
    /// twice that leaves room while bounding what a guest can make the host allocate.
    /// </summary>
    public const int MaxBackingEntries = 1 << 17;

    /// <summary>RESOURCE_ATTACH_BACKING: every entry is validated before any is attached.</summary>
    public GpuResponse AttachBacking(GuestMemory memory, uint resourceId, ReadOnlySpan<VirtioGpuMemEntry> entries)
    {
        if (ValidateBacking(memory, entries, out var buffers) is { } invalid)
            return invalid;
        lock (_lock)
        {
            if (!_resources.TryGetValue(resourceId, out var resource))
                return GpuResponse.ErrInvalidResourceId(resourceId);
            if (resource.Backing is not null)
                return GpuResponse.ErrUnspec($"resource {resourceId} already has backing");
            if (Budget.TryCharge($"backing of resource {resourceId}", HostBudget.BackingCost(buffers.Length), entries: buffers.Length) is { } refused)
                return refused;
            resource.Backing = new BackingStore(buffers);
            resource.BackingMemory = memory;
            return GpuResponse.OkNoData;
        }
    }

    /// <summary>RESOURCE_DETACH_BACKING.</summary>
    public GpuResponse DetachBacking(uint resourceId)
    {
        lock (_lock)
        {
            if (!_resources.TryGetValue(resourceId, out var resource))
                return GpuResponse.ErrInvalidResourceId(resourceId);
            if (resource.Backing is null)
                return GpuResponse.ErrUnspec($"resource {resourceId} has no backing");
            ReleaseBackingLocked(resource.Backing);
            resource.Backing = null;
            resource.BackingMemory = null;
            return GpuResponse.OkNoData;
        }
    }

    /// <summary>
    /// TRANSFER_TO_HOST_2D: copies rect <paramref name="r"/> from the backing into the host pixels. Row y of the
    /// rect is read at <paramref name="offset"/> + y * stride of the backing (the layout Linux uses: offset is
    /// the rect's first byte in a buffer with the resource's stride). The whole source range is checked before
    /// anything is copied; the copy then moves the largest guest spans the backing and guest memory allow.
    /// </summary>
    public GpuResponse TransferToHost2D(GuestMemory memory, uint resourceId, VirtioGpuRect r, ulong offset)
    {
        lock (_lock)
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
    }
}
