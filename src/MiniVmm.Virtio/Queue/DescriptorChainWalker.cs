using MiniVmm.Memory;

namespace MiniVmm.Virtio.Queue;

/// <summary>
/// Walks the descriptors of one chain, following NEXT and at most one level of INDIRECT. Every index is
/// checked against the table it indexes and every table gets a time-to-live of its own length, so a
/// looping chain ends with <see cref="QueueErrorKind.ChainTooLong"/> instead of spinning. Descriptors are
/// copied out of guest memory before they are inspected: the guest can't change a value after its check.
/// </summary>
public ref struct DescriptorChainWalker
{
    private readonly GuestMemory _memory;
    private readonly ushort _head;
    private GuestAddress _table;
    private uint _tableLength;
    private uint _index;
    private uint _ttl;
    private bool _hasNext;
    private bool _inIndirect;

    public DescriptorChainWalker(GuestMemory memory, GuestAddress descriptorTable, ushort queueSize, ushort head)
    {
        _memory = memory;
        _head = head;
        _table = descriptorTable;
        _tableLength = queueSize;
        _index = head;
        _ttl = queueSize;
        _hasNext = true;
    }

    /// <summary>True while walking an indirect table (the descriptors returned come from it).</summary>
    public readonly bool InIndirectTable => _inIndirect;

    /// <summary>
    /// The next buffer descriptor (never an INDIRECT one: those are followed). False at the end of the chain,
    /// with <paramref name="error"/> set when the walk stopped on a driver error.
    /// </summary>
    public bool TryNext(out VirtqDesc descriptor, out QueueError error)
    {
        descriptor = default;
        error = default;
        while (_hasNext)
        {
            if (_ttl == 0)
                return Fail(out error, QueueErrorKind.ChainTooLong,
                    $"chain from head {_head} has more than {_tableLength} descriptors{Where} (a loop?)");
            _ttl--;
            if (_index >= _tableLength)
                return Fail(out error, QueueErrorKind.NextOutOfRange,
                    $"chain from head {_head} refers to descriptor {_index}, beyond the {_tableLength}-entry table{Where}");

            // _index < _tableLength <= 32768, so the offset cannot overflow; the table end was checked already.
            var address = _table.Offset((ulong)_index * VirtqConstants.DescriptorSize);
            var readError = _memory.TryRead(address, out VirtqDesc desc);
            if (readError != GuestMemoryError.None)
                return Fail(out error, QueueErrorKind.DescriptorInaccessible,
                    $"descriptor {_index} of chain from head {_head} at {address}{Where} is unreadable: {readError}");

            if ((desc.Flags & VirtqConstants.VIRTQ_DESC_F_INDIRECT) != 0)
            {
                if (!EnterIndirect(in desc, out error))
                    return false;
                continue;
            }

            _hasNext = (desc.Flags & VirtqConstants.VIRTQ_DESC_F_NEXT) != 0;
            _index = desc.Next;
            descriptor = desc;
            return true;
        }
        return false;
    }

    private bool EnterIndirect(in VirtqDesc desc, out QueueError error)
    {
        error = default;
        if (_inIndirect)
            return Fail(out error, QueueErrorKind.NestedIndirect,
                $"indirect table of chain from head {_head} contains an indirect descriptor at {_index}");
        if ((desc.Flags & VirtqConstants.VIRTQ_DESC_F_NEXT) != 0)
            return Fail(out error, QueueErrorKind.IndirectWithNext,
                $"indirect descriptor of chain from head {_head} also sets NEXT");
        if (desc.Len == 0 || desc.Len % VirtqConstants.DescriptorSize != 0)
            return Fail(out error, QueueErrorKind.IndirectBadLength,
                $"indirect table of chain from head {_head} is {desc.Len} bytes, not a non-zero multiple of 16");
        uint entries = desc.Len / VirtqConstants.DescriptorSize;
        if (entries > VirtqConstants.MaxQueueSize)
            return Fail(out error, QueueErrorKind.IndirectTooLarge,
                $"indirect table of chain from head {_head} has {entries} entries, more than {VirtqConstants.MaxQueueSize}");
        var tableAddress = new GuestAddress(desc.Addr);
        var locate = _memory.Locate(tableAddress, desc.Len, out _, out _);
        if (locate != GuestMemoryError.None)
            return Fail(out error, QueueErrorKind.IndirectOutOfMemory,
                $"indirect table of chain from head {_head} at {tableAddress} (+0x{desc.Len:x}) is outside guest memory: {locate}");

        // The device ignores WRITE on the descriptor that refers to a table (spec 2.7.5.3.2).
        _inIndirect = true;
        _table = tableAddress;
        _tableLength = entries;
        _index = 0;
        _ttl = entries;
        _hasNext = true;
        return true;
    }

    private readonly string Where => _inIndirect ? " (indirect table)" : "";

    private bool Fail(out QueueError error, QueueErrorKind kind, string message)
    {
        error = new QueueError(kind, message);
        _hasNext = false;
        return false;
    }
}
