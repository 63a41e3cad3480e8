using System.Runtime.InteropServices;
using MiniVmm.Memory;

namespace MiniVmm.Virtio.Queue;

/// <summary>
/// Split-virtqueue wire layout (virtio 1.x spec 2.7). Everything is little-endian; MiniVmm runs on
/// x86-64 hosts only, so structs are read as-is.
/// </summary>
public static class VirtqConstants
{
    /// <summary>Spec 2.7.5: the buffer continues via the <c>next</c> field.</summary>
    public const ushort VIRTQ_DESC_F_NEXT = 1;

    /// <summary>Spec 2.7.5: the buffer is device write-only (otherwise device read-only).</summary>
    public const ushort VIRTQ_DESC_F_WRITE = 2;

    /// <summary>Spec 2.7.5.3: the buffer holds a table of descriptors.</summary>
    public const ushort VIRTQ_DESC_F_INDIRECT = 4;

    /// <summary>Spec 2.7.6: the driver asks not to be interrupted (ignored when EVENT_IDX is negotiated).</summary>
    public const ushort VIRTQ_AVAIL_F_NO_INTERRUPT = 1;

    /// <summary>Spec 2.7.8: the device asks not to be notified (ignored when EVENT_IDX is negotiated).</summary>
    public const ushort VIRTQ_USED_F_NO_NOTIFY = 1;

    /// <summary>Spec 6: feature bit for indirect descriptor tables.</summary>
    public const int VIRTIO_RING_F_INDIRECT_DESC = 28;

    /// <summary>Spec 6: feature bit for used_event / avail_event notification suppression.</summary>
    public const int VIRTIO_RING_F_EVENT_IDX = 29;

    /// <summary>Ring features this queue implementation supports; a transport may offer these.</summary>
    public const ulong SupportedRingFeatures = (1UL << VIRTIO_RING_F_INDIRECT_DESC) | (1UL << VIRTIO_RING_F_EVENT_IDX);

    /// <summary>Spec 2.7: "Queue Size ... the maximum ... is 32768".</summary>
    public const int MaxQueueSize = 32768;

    /// <summary>Spec 2.7 alignment table: descriptor table 16, available ring 2, used ring 4.</summary>
    public const ulong DescriptorTableAlignment = 16;
    public const ulong AvailableRingAlignment = 2;
    public const ulong UsedRingAlignment = 4;

    public const uint DescriptorSize = 16;
    public const uint UsedElemSize = 8;

    /// <summary>flags(2) + idx(2) + used_event(2); the ring entries come on top (2 bytes each).</summary>
    public const uint AvailableRingOverhead = 6;

    /// <summary>flags(2) + idx(2) + avail_event(2); the ring entries come on top (8 bytes each).</summary>
    public const uint UsedRingOverhead = 6;
}

/// <summary>struct virtq_desc (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtqDesc
{
    public ulong Addr;
    public uint Len;
    public ushort Flags;
    public ushort Next;
}

/// <summary>struct virtq_used_elem (8 bytes). <see cref="Id"/> is the head index of the chain.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtqUsedElem
{
    public uint Id;
    public uint Len;
}

/// <summary>One guest buffer of a chain: already checked to lie inside one guest-memory region.</summary>
public readonly record struct GuestBuffer(GuestAddress Address, uint Length);
