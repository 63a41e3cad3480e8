using System.Runtime.InteropServices;

namespace MiniVmm.Gpu;

/// <summary>
/// The host-visible region (virtio shared memory id 1): the window in guest physical memory where
/// RESOURCE_MAP_BLOB places a blob's host pages. The device checks offsets, sizes and overlaps before calling;
/// an implementation only has to make the pages appear (KVM: one memory slot per mapping) and disappear.
/// Called with the GPU backend's resource lock held, so it must not call back into the device.
/// </summary>
public interface IHostVisibleRegion
{
    /// <summary>Bytes in the region (the shared-memory BAR's length).</summary>
    ulong Size { get; }

    /// <summary>
    /// Makes [offset, offset + size) of the region show the first <paramref name="size"/> bytes of
    /// <paramref name="memfd"/>, shared both ways. The mapping must be in place when this returns true, because
    /// the guest maps the range as soon as it sees the response. False (with a reason) leaves nothing mapped.
    /// </summary>
    bool TryMap(ulong offset, ulong size, SafeHandle memfd, out string? error);

    /// <summary>Removes the mapping that starts at <paramref name="offset"/>; guest accesses there become MMIO exits.</summary>
    void Unmap(ulong offset);
}
