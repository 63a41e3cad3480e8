using System.Runtime.CompilerServices;
using MiniVmm.Memory;

namespace MiniVmm.Virtio.Queue;

/// <summary>Used ring and interrupt suppression (spec 2.7.7, 2.7.8, 2.7.10).</summary>
public sealed partial class Virtqueue
{
    /// <summary>
    /// Returns chain <paramref name="headIndex"/> to the driver with <paramref name="writtenLength"/> bytes
    /// written. The element is stored before used->idx is published, with a barrier between, so the driver
    /// never sees an index that covers an element not yet written. False when the used ring is no longer in
    /// guest memory (a driver error for NEEDS_RESET).
    /// </summary>
    public bool AddUsed(ushort headIndex, uint writtenLength)
    {
        if (!_validated)
            ThrowHelper.NotValidated();
        if (headIndex >= Size)
            ThrowHelper.HeadOutOfRange(headIndex, Size);
        var element = new VirtqUsedElem { Id = headIndex, Len = writtenLength };
        var slot = UsedRing.Offset(RingEntriesOffset + (ulong)(_nextUsed & (Size - 1)) * VirtqConstants.UsedElemSize);
        if (Memory.TryWrite(slot, in element) != GuestMemoryError.None)
            return false;
        ushort newUsed = (ushort)(_nextUsed + 1);
        if (Memory.TryGetSpan(UsedRing.Offset(RingIdxOffset), 2, out var idxSpan) != GuestMemoryError.None)
            return false;
        // Release: the element above becomes visible before the index that covers it.
        Interlocked.MemoryBarrier();
        Volatile.Write(ref Unsafe.As<byte, ushort>(ref idxSpan[0]), newUsed);
        _nextUsed = newUsed;
        _held.Release(headIndex); // the driver owns the chain again and may publish it anew
        return true;
    }

    /// <summary>
    /// Whether the driver wants an interrupt for the used entries added since the last call. Without
    /// EVENT_IDX it honours VIRTQ_AVAIL_F_NO_INTERRUPT; with EVENT_IDX it interrupts when used->idx moved
    /// past used_event (vring_need_event, spec 2.7.10). Call once after a batch of <see cref="AddUsed"/>.
    /// </summary>
    public bool NeedsNotification()
    {
        if (!_validated)
            ThrowHelper.NotValidated();
        // The used->idx store must be visible before the driver's suppression field is loaded (store-load).
        Interlocked.MemoryBarrier();
        if (!EventIndex)
        {
            // A flags value we cannot read: interrupt anyway, a spurious interrupt is harmless.
            return Memory.TryRead(AvailableRing, out ushort flags) != GuestMemoryError.None
                || (flags & VirtqConstants.VIRTQ_AVAIL_F_NO_INTERRUPT) == 0;
        }

        ushort newUsed = _nextUsed;
        ushort oldUsed = _signalledUsed;
        bool known = _signalledUsedValid;
        _signalledUsed = newUsed;
        _signalledUsedValid = true;
        if (Memory.TryRead(UsedEventAddress, out ushort usedEvent) != GuestMemoryError.None || !known)
            return true;
        return NeedEvent(usedEvent, newUsed, oldUsed);
    }

    /// <summary>vring_need_event: did the index move from <paramref name="oldIdx"/> past <paramref name="eventIdx"/>?</summary>
    public static bool NeedEvent(ushort eventIdx, ushort newIdx, ushort oldIdx) =>
        (ushort)(newIdx - eventIdx - 1) < (ushort)(newIdx - oldIdx);
}

/// <summary>Host bugs (misuse by the VMM itself) throw through these; guest errors never do.</summary>
internal static class ThrowHelper
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void NotValidated() =>
        throw new InvalidOperationException("the virtqueue was used before Validate succeeded");

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void HeadOutOfRange(ushort head, ushort size) =>
        throw new ArgumentOutOfRangeException(nameof(head), $"head {head} is not below queue size {size}");
}
