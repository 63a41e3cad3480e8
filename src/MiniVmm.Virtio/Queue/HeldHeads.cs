namespace MiniVmm.Virtio.Queue;

/// <summary>
/// Which descriptor heads the device holds: popped from the available ring and not yet returned in the used ring.
/// A driver may only make available a buffer it owns, so a head published again while held is a driver error
/// (virtio 1.2, 2.7.13 and 2.1.1 "Device Status Field": the device sets DEVICE_NEEDS_RESET). Tracking it keeps every
/// list of parked chains a device keeps (deferred fences, posted receive buffers) within the queue size.
/// One bit per head; not synchronised (the queue's owner serialises).
/// </summary>
internal sealed class HeldHeads(ushort size)
{
    private readonly ulong[] _bits = new ulong[(size + 63) / 64];

    public int Count { get; private set; }

    /// <summary>Marks <paramref name="head"/> held; false when it already was.</summary>
    public bool TryTake(ushort head)
    {
        ref ulong word = ref _bits[head >> 6];
        ulong bit = 1UL << (head & 63);
        if ((word & bit) != 0)
            return false;
        word |= bit;
        Count++;
        return true;
    }

    /// <summary>The device returned <paramref name="head"/>.</summary>
    public void Release(ushort head)
    {
        ref ulong word = ref _bits[head >> 6];
        ulong bit = 1UL << (head & 63);
        if ((word & bit) == 0)
            return;
        word &= ~bit;
        Count--;
    }
}
