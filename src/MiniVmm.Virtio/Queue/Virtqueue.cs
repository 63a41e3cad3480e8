using MiniVmm.Memory;

namespace MiniVmm.Virtio.Queue;

/// <summary>
/// CONTRACT STUB (the queue engineer replaces the body, keeping this constructor and these members):
/// a split virtqueue (virtio 1.x spec 2.7) over guest memory. The transport constructs it from the
/// addresses the driver wrote and calls <see cref="Validate"/> before activating the device.
/// </summary>
public sealed class Virtqueue
{
    public Virtqueue(GuestMemory memory, ushort size, GuestAddress descriptorTable, GuestAddress availableRing,
        GuestAddress usedRing, bool eventIndex)
    {
        Memory = memory;
        Size = size;
        DescriptorTable = descriptorTable;
        AvailableRing = availableRing;
        UsedRing = usedRing;
        EventIndex = eventIndex;
    }

    public GuestMemory Memory { get; }
    public ushort Size { get; }
    public GuestAddress DescriptorTable { get; }
    public GuestAddress AvailableRing { get; }
    public GuestAddress UsedRing { get; }
    public bool EventIndex { get; }

    /// <summary>Checks size (power of two), alignment and that every ring lies in guest memory.</summary>
    public bool Validate(out string? error)
    {
        error = null;
        return true;
    }
}
