using MiniVmm.Memory;
using MiniVmm.Virtio.Queue;

namespace MiniVmm.TestSupport;

/// <summary>One buffer of a chain a test adds: device-readable bytes, or device-writable space.</summary>
public readonly record struct MockBuffer(bool Writable, byte[] Data, uint Length, GuestAddress? Address)
{
    public static MockBuffer Readable(ReadOnlySpan<byte> data) => new(false, data.ToArray(), (uint)data.Length, null);

    public static MockBuffer WritableSpace(uint length) => new(true, [], length, null);

    /// <summary>A descriptor with a chosen address and length (hostile chains); nothing is copied.</summary>
    public static MockBuffer Raw(ulong address, uint length, bool writable) =>
        new(writable, [], length, new GuestAddress(address));
}

/// <summary>The guest addresses a chain's buffers ended up at.</summary>
public sealed record MockChain(ushort Head, IReadOnlyList<GuestAddress> BufferAddresses);

/// <summary>
/// Plays the driver side of a split virtqueue (virtio 1.x spec 2.7) in a <see cref="GuestMemory"/>: lays
/// out the descriptor table, available and used rings, hands out data buffers from a bump allocator,
/// adds chains (direct or indirect) and publishes them, and reads back the used ring. Tests write raw
/// descriptors and ring fields through it to build hostile queues.
/// </summary>
public sealed partial class MockSplitQueue
{
    private readonly GuestMemory _memory;
    private readonly ulong _dataEnd;
    private ulong _dataNext;
    private ushort _nextDescriptor;
    private ushort _availIdx;
    private ushort _usedSeen;

    /// <param name="ringBase">Where the rings start (16-byte aligned); data buffers follow them up to <paramref name="dataEnd"/>.</param>
    public MockSplitQueue(GuestMemory memory, ushort size, ulong ringBase, ulong dataEnd, bool eventIndex = false)
    {
        _memory = memory;
        Size = size;
        EventIndex = eventIndex;
        DescriptorTable = new GuestAddress(ringBase);
        AvailableRing = new GuestAddress(ringBase + 16UL * size);
        UsedRing = new GuestAddress(AlignUp(AvailableRing.Value + 6 + 2UL * size, 4));
        _dataNext = AlignUp(UsedRing.Value + 6 + 8UL * size, 64);
        _dataEnd = dataEnd;
        if (_dataNext >= dataEnd)
            throw new ArgumentException("no room left for data buffers", nameof(dataEnd));
        // A fresh driver zeroes its rings.
        _memory.Write(DescriptorTable, new byte[_dataNext - ringBase]);
    }

    /// <summary>
    /// What a driver does after a device reset: zeroes its rings and starts again from descriptor 0 and index 0
    /// (data space is not reused). Create a new <see cref="Virtqueue"/> afterwards for the re-activated device.
    /// </summary>
    public void Restart()
    {
        _memory.Write(DescriptorTable, new byte[UsedRing.Value + 6 + 8UL * Size - DescriptorTable.Value]);
        _nextDescriptor = 0;
        _availIdx = 0;
        _usedSeen = 0;
    }

    public ushort Size { get; }
    public bool EventIndex { get; }
    public GuestAddress DescriptorTable { get; }
    public GuestAddress AvailableRing { get; }
    public GuestAddress UsedRing { get; }
    public GuestMemory Memory => _memory;

    /// <summary>The device side: a validated <see cref="Virtqueue"/> over these rings.</summary>
    public Virtqueue CreateQueue()
    {
        var queue = new Virtqueue(_memory, Size, DescriptorTable, AvailableRing, UsedRing, EventIndex);
        if (!queue.Validate(out string? error))
            throw new InvalidOperationException($"mock queue layout is invalid: {error}");
        return queue;
    }

    /// <summary>Reserves <paramref name="length"/> bytes of data space (16-byte aligned) and returns its address.</summary>
    public GuestAddress Allocate(uint length)
    {
        ulong address = _dataNext;
        ulong end = AlignUp(address + Math.Max(length, 1u), 16);
        if (end > _dataEnd)
            throw new InvalidOperationException("mock queue data space exhausted");
        _dataNext = end;
        return new GuestAddress(address);
    }

    /// <summary>Writes descriptor <paramref name="index"/> of the main table as given.</summary>
    public void WriteDescriptor(ushort index, ulong address, uint length, ushort flags, ushort next) =>
        WriteDescriptorAt(DescriptorTable.Offset(16UL * index), address, length, flags, next);

    public void WriteDescriptorAt(GuestAddress slot, ulong address, uint length, ushort flags, ushort next) =>
        _memory.Write(slot, new VirtqDesc { Addr = address, Len = length, Flags = flags, Next = next });

    /// <summary>Adds a chain of direct descriptors and publishes it in the available ring.</summary>
    public MockChain AddChain(params MockBuffer[] buffers)
    {
        var chain = WriteChain(buffers);
        Publish(chain.Head);
        return chain;
    }

    /// <summary>Writes a chain into the descriptor table without publishing it.</summary>
    public MockChain WriteChain(params MockBuffer[] buffers)
    {
        if (buffers.Length == 0 || buffers.Length > Size)
            throw new ArgumentException("a chain has 1..size buffers", nameof(buffers));
        ushort head = _nextDescriptor;
        var addresses = new List<GuestAddress>(buffers.Length);
        for (int i = 0; i < buffers.Length; i++)
        {
            ushort index = (ushort)((head + i) % Size);
            ushort next = (ushort)((index + 1) % Size);
            var address = Place(buffers[i]);
            addresses.Add(address);
            ushort flags = (ushort)((buffers[i].Writable ? VirtqConstants.VIRTQ_DESC_F_WRITE : 0)
                | (i + 1 < buffers.Length ? VirtqConstants.VIRTQ_DESC_F_NEXT : 0));
            WriteDescriptor(index, address.Value, buffers[i].Length, flags, next);
        }
        _nextDescriptor = (ushort)((head + buffers.Length) % Size);
        return new MockChain(head, addresses);
    }

    /// <summary>Adds one INDIRECT descriptor whose table holds <paramref name="buffers"/>, and publishes it.</summary>
    public MockChain AddIndirectChain(params MockBuffer[] buffers)
    {
        var table = Allocate((uint)(16 * buffers.Length));
        var addresses = new List<GuestAddress>(buffers.Length);
        for (int i = 0; i < buffers.Length; i++)
        {
            var address = Place(buffers[i]);
            addresses.Add(address);
            ushort flags = (ushort)((buffers[i].Writable ? VirtqConstants.VIRTQ_DESC_F_WRITE : 0)
                | (i + 1 < buffers.Length ? VirtqConstants.VIRTQ_DESC_F_NEXT : 0));
            WriteDescriptorAt(table.Offset(16UL * (uint)i), address.Value, buffers[i].Length, flags, (ushort)(i + 1));
        }
        ushort head = _nextDescriptor;
        WriteDescriptor(head, table.Value, (uint)(16 * buffers.Length), VirtqConstants.VIRTQ_DESC_F_INDIRECT, 0);
        _nextDescriptor = (ushort)((head + 1) % Size);
        Publish(head);
        return new MockChain(head, addresses);
    }

    private GuestAddress Place(MockBuffer buffer)
    {
        if (buffer.Address is { } fixedAddress)
            return fixedAddress;
        var address = Allocate(buffer.Length);
        if (buffer.Data.Length > 0)
            _memory.Write(address, buffer.Data);
        return address;
    }

    private static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) & ~(alignment - 1);
}
