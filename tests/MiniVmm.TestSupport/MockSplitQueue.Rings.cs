using MiniVmm.Memory;
using MiniVmm.Virtio.Queue;

namespace MiniVmm.TestSupport;

/// <summary>Ring fields as the driver sees them.</summary>
public sealed partial class MockSplitQueue
{
    /// <summary>Puts <paramref name="head"/> in the next available slot and bumps avail->idx (as a driver does).</summary>
    public void Publish(ushort head)
    {
        _memory.Write(AvailableRing.Offset(4 + 2UL * (ushort)(_availIdx % Size)), head);
        _availIdx++;
        AvailIdx = _availIdx;
    }

    /// <summary>Writes an available-ring slot without touching avail->idx.</summary>
    public void WriteAvailEntry(ushort slot, ushort head) => _memory.Write(AvailableRing.Offset(4 + 2UL * slot), head);

    /// <summary>avail->idx as stored in guest memory; setting it also moves the mock's own counter.</summary>
    public ushort AvailIdx
    {
        get => _memory.Read<ushort>(AvailableRing.Offset(2));
        set
        {
            _availIdx = value;
            _memory.Write(AvailableRing.Offset(2), value);
        }
    }

    public ushort AvailFlags
    {
        get => _memory.Read<ushort>(AvailableRing);
        set => _memory.Write(AvailableRing, value);
    }

    /// <summary>used_event (the last field of the available ring).</summary>
    public ushort UsedEvent
    {
        get => _memory.Read<ushort>(AvailableRing.Offset(4 + 2UL * Size));
        set => _memory.Write(AvailableRing.Offset(4 + 2UL * Size), value);
    }

    /// <summary>avail_event (the last field of the used ring), written by the device.</summary>
    public ushort AvailEvent => _memory.Read<ushort>(UsedRing.Offset(4 + 8UL * Size));

    public ushort UsedIdx => _memory.Read<ushort>(UsedRing.Offset(2));

    public VirtqUsedElem ReadUsed(ushort slot) => _memory.Read<VirtqUsedElem>(UsedRing.Offset(4 + 8UL * (ushort)(slot % Size)));

    /// <summary>Used elements published since the last call (the driver's get_buf loop).</summary>
    public IReadOnlyList<VirtqUsedElem> TakeUsed()
    {
        var result = new List<VirtqUsedElem>();
        ushort usedIdx = UsedIdx;
        while (_usedSeen != usedIdx)
        {
            result.Add(ReadUsed(_usedSeen));
            _usedSeen++;
        }
        return result;
    }

    public byte[] ReadBytes(GuestAddress address, int length)
    {
        var bytes = new byte[length];
        _memory.Read(address, bytes);
        return bytes;
    }
}
