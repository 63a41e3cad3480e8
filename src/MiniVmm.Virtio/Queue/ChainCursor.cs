using MiniVmm.Memory;

namespace MiniVmm.Virtio.Queue;

/// <summary>
/// A position inside a chain's buffers (buffer index, offset), shared by the reader and the writer. A struct, so
/// a reader can walk a copy and commit it only once a whole read succeeded.
/// </summary>
internal struct ChainCursor(IReadOnlyList<GuestBuffer> buffers)
{
    private readonly IReadOnlyList<GuestBuffer> _buffers = buffers;
    private int _index;
    private uint _offset;

    /// <summary>The next piece of at most <paramref name="maxBytes"/>, inside the current buffer (the caller checked the total).</summary>
    public readonly (GuestAddress Address, uint Length) Next(uint maxBytes)
    {
        var buffer = _buffers[_index];
        // Inside a validated buffer: the offset cannot overflow the address.
        return (buffer.Address.Offset(_offset), Math.Min(buffer.Length - _offset, maxBytes));
    }

    /// <summary>Moves past <paramref name="length"/> bytes of the current buffer, on to the next one at its end.</summary>
    public void Step(uint length)
    {
        _offset += length;
        if (_offset == _buffers[_index].Length)
        {
            _index++;
            _offset = 0;
        }
    }
}
