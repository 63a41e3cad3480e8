using System.Runtime.CompilerServices;
using MiniVmm.Memory;

namespace MiniVmm.Virtio.Queue;

/// <summary>
/// A split virtqueue (virtio 1.x spec 2.7) over guest memory. The transport constructs it from the
/// addresses the driver wrote and calls <see cref="Validate"/> before activating the device; after that
/// the device pops chains (<see cref="TryPop"/>), returns them (<see cref="AddUsed"/>) and asks whether
/// to interrupt (<see cref="NeedsNotification"/>).
/// Threading: not synchronised. The device serialises all calls (one event-loop thread, or its own lock).
/// </summary>
public sealed partial class Virtqueue
{
    // Ring field offsets (spec 2.7.6 and 2.7.8).
    private const ulong RingIdxOffset = 2;
    private const ulong RingEntriesOffset = 4;

    private bool _validated;
    private ushort _nextAvail;      // free-running index of the next avail ring slot the device consumes
    private ushort _availIdxSeen;   // avail->idx as last read; the device pops until _nextAvail reaches it
    private ushort _nextUsed;       // free-running used->idx the device publishes next
    private ushort _signalledUsed;  // used->idx when the device last decided about an interrupt (EVENT_IDX)
    private bool _signalledUsedValid;
    private readonly HeldHeads _held;

    public Virtqueue(GuestMemory memory, ushort size, GuestAddress descriptorTable, GuestAddress availableRing,
        GuestAddress usedRing, bool eventIndex)
    {
        Memory = memory;
        Size = size;
        DescriptorTable = descriptorTable;
        AvailableRing = availableRing;
        UsedRing = usedRing;
        EventIndex = eventIndex;
        _held = new HeldHeads(size);
    }

    /// <summary>Heads the device popped and has not returned with <see cref="AddUsed"/> yet (at most <see cref="Size"/>).</summary>
    public int HeldCount => _held.Count;

    public GuestMemory Memory { get; }
    public ushort Size { get; }
    public GuestAddress DescriptorTable { get; }
    public GuestAddress AvailableRing { get; }
    public GuestAddress UsedRing { get; }
    public bool EventIndex { get; }

    /// <summary>Free-running index of the next available-ring slot the device will consume.</summary>
    public ushort NextAvailable => _nextAvail;

    /// <summary>Free-running used index the device will publish next.</summary>
    public ushort NextUsed => _nextUsed;

    /// <summary>Checks size (power of two), alignment and that every ring lies in guest memory.</summary>
    public bool Validate(out string? error)
    {
        error = CheckLayout();
        _validated = error is null;
        return _validated;
    }

    private string? CheckLayout()
    {
        if (Size == 0 || Size > VirtqConstants.MaxQueueSize || (Size & (Size - 1)) != 0)
            return $"queue size {Size} is not a power of two between 1 and {VirtqConstants.MaxQueueSize}";
        return CheckRing("descriptor table", DescriptorTable, VirtqConstants.DescriptorTableAlignment,
                   (ulong)Size * VirtqConstants.DescriptorSize)
               ?? CheckRing("available ring", AvailableRing, VirtqConstants.AvailableRingAlignment,
                   VirtqConstants.AvailableRingOverhead + 2UL * Size)
               ?? CheckRing("used ring", UsedRing, VirtqConstants.UsedRingAlignment,
                   VirtqConstants.UsedRingOverhead + (ulong)Size * VirtqConstants.UsedElemSize);
    }

    private string? CheckRing(string name, GuestAddress address, ulong alignment, ulong length)
    {
        if (!address.IsAligned(alignment))
            return $"{name} at {address} is not {alignment}-byte aligned";
        var error = Memory.Locate(address, length, out _, out _);
        return error == GuestMemoryError.None
            ? null
            : $"{name} at {address} (+0x{length:x}) is not inside guest memory: {error}";
    }

    /// <summary>
    /// Pops the next available chain. avail->idx is read once per batch: only when the device has consumed
    /// every entry it saw last time. With EVENT_IDX, avail_event is published before that read, so a
    /// driver that adds a buffer after the read sees that it must notify.
    /// </summary>
    public PopResult TryPop()
    {
        if (!_validated)
            ThrowHelper.NotValidated();
        if (_nextAvail == _availIdxSeen)
        {
            if (EventIndex && !TryWriteU16(AvailEventAddress, _nextAvail))
                return RingError("used ring (avail_event)");
            // Store avail_event, then load avail->idx: a full fence keeps that order (store-load).
            Interlocked.MemoryBarrier();
            if (!TryReadU16Acquire(AvailableRing.Offset(RingIdxOffset), out ushort availIdx))
                return RingError("available ring (idx)");
            ushort pending = (ushort)(availIdx - _nextAvail);
            if (pending > Size)
                return new PopResult(PopStatus.Error, null, new QueueError(QueueErrorKind.AvailIndexAhead,
                    $"avail idx {availIdx} is {pending} entries past the last seen {_nextAvail}, more than the queue size {Size}"), null);
            _availIdxSeen = availIdx;
            if (pending == 0)
                return PopResult.Empty;
        }

        var slot = AvailableRing.Offset(RingEntriesOffset + 2UL * (ushort)(_nextAvail & (Size - 1)));
        if (Memory.TryRead(slot, out ushort head) != GuestMemoryError.None)
            return RingError("available ring (entry)");
        _nextAvail++;
        if (head >= Size)
            return new PopResult(PopStatus.Error, null, new QueueError(QueueErrorKind.HeadOutOfRange,
                $"available ring entry {(ushort)(_nextAvail - 1)} names head {head}, beyond queue size {Size}"), null);
        // Not returned to the caller: the device already holds that chain, and will return it once.
        if (!_held.TryTake(head))
            return new PopResult(PopStatus.Error, null, new QueueError(QueueErrorKind.HeadInUse,
                $"available ring entry {(ushort)(_nextAvail - 1)} names head {head}, which the device still holds"), null);
        return DescriptorChain.TryCreate(Memory, DescriptorTable, Size, head, out var chain, out var error)
            ? new PopResult(PopStatus.Chain, chain, default, head)
            : new PopResult(PopStatus.Error, null, error, head);
    }

    private static PopResult RingError(string what) =>
        new(PopStatus.Error, null, new QueueError(QueueErrorKind.RingInaccessible, $"the {what} is no longer in guest memory"), null);

    private GuestAddress AvailEventAddress => UsedRing.Offset(RingEntriesOffset + (ulong)Size * VirtqConstants.UsedElemSize);

    private GuestAddress UsedEventAddress => AvailableRing.Offset(RingEntriesOffset + 2UL * Size);

    private bool TryReadU16Acquire(GuestAddress address, out ushort value)
    {
        value = 0;
        if (Memory.TryGetSpan(address, 2, out var span) != GuestMemoryError.None)
            return false;
        // Acquire: ring entries and descriptors the driver wrote before idx are read after it.
        value = Volatile.Read(ref Unsafe.As<byte, ushort>(ref span[0]));
        return true;
    }

    private bool TryWriteU16(GuestAddress address, ushort value) =>
        Memory.TryWrite(address, in value) == GuestMemoryError.None;
}
