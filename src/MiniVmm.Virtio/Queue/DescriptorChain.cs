using MiniVmm.Memory;

namespace MiniVmm.Virtio.Queue;

/// <summary>
/// A popped, fully validated descriptor chain: its device-readable buffers (in order) followed by its
/// device-writable buffers. Validation happens once, when the chain is popped, so readers and writers
/// only deal with byte counts. Zero-length buffers are accepted and dropped.
/// </summary>
public sealed class DescriptorChain
{
    private DescriptorChain(GuestMemory memory, ushort headIndex, GuestBuffer[] readable, GuestBuffer[] writable,
        uint readableLength, uint writableLength)
    {
        Memory = memory;
        HeadIndex = headIndex;
        ReadableBuffers = readable;
        WritableBuffers = writable;
        ReadableLength = readableLength;
        WritableLength = writableLength;
    }

    public GuestMemory Memory { get; }

    /// <summary>The head descriptor index: the id the device returns in the used ring.</summary>
    public ushort HeadIndex { get; }

    public IReadOnlyList<GuestBuffer> ReadableBuffers { get; }
    public IReadOnlyList<GuestBuffer> WritableBuffers { get; }
    public uint ReadableLength { get; }
    public uint WritableLength { get; }

    public DescriptorChainReader CreateReader() => new(Memory, ReadableBuffers, ReadableLength);

    public DescriptorChainWriter CreateWriter() => new(Memory, WritableBuffers, WritableLength);

    /// <summary>Walks and validates the chain that starts at <paramref name="head"/> (already checked &lt; size).</summary>
    public static bool TryCreate(GuestMemory memory, GuestAddress descriptorTable, ushort queueSize, ushort head,
        out DescriptorChain? chain, out QueueError error)
    {
        chain = null;
        var walker = new DescriptorChainWalker(memory, descriptorTable, queueSize, head);
        var readable = new List<GuestBuffer>(2);
        var writable = new List<GuestBuffer>(1);
        ulong readableLength = 0;
        ulong writableLength = 0;
        while (walker.TryNext(out var desc, out error))
        {
            bool isWritable = (desc.Flags & VirtqConstants.VIRTQ_DESC_F_WRITE) != 0;
            // Zero-length buffers carry nothing: skipping them keeps them harmless wherever they appear.
            if (desc.Len == 0)
                continue;
            if (!isWritable && writable.Count > 0)
            {
                error = new QueueError(QueueErrorKind.ReadableAfterWritable,
                    $"chain from head {head} has a device-readable buffer at {desc.Addr:x} after a device-writable one");
                return false;
            }
            var address = new GuestAddress(desc.Addr);
            var locate = memory.Locate(address, desc.Len, out _, out _);
            if (locate != GuestMemoryError.None)
            {
                error = new QueueError(QueueErrorKind.BufferOutOfMemory,
                    $"chain from head {head} has a buffer at {address} (+0x{desc.Len:x}) outside guest memory: {locate}");
                return false;
            }
            // Two u64 sums of u32 lengths over at most 2 * 32768 descriptors cannot overflow.
            if (isWritable)
            {
                writable.Add(new GuestBuffer(address, desc.Len));
                writableLength += desc.Len;
            }
            else
            {
                readable.Add(new GuestBuffer(address, desc.Len));
                readableLength += desc.Len;
            }
            if (readableLength + writableLength > uint.MaxValue)
            {
                error = new QueueError(QueueErrorKind.TotalLengthOverflow,
                    $"chain from head {head} has more than 2^32 - 1 bytes of buffers");
                return false;
            }
        }
        if (error.IsError)
            return false;
        chain = new DescriptorChain(memory, head, [.. readable], [.. writable], (uint)readableLength, (uint)writableLength);
        return true;
    }
}
