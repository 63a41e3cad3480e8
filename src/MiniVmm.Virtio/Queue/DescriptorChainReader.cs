using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MiniVmm.Memory;

namespace MiniVmm.Virtio.Queue;

/// <summary>
/// Reads a chain's device-readable buffers as one byte stream, through <see cref="GuestMemory"/> only.
/// Reads are all-or-nothing: when fewer bytes remain than asked for, nothing is consumed and the call
/// returns false, so a truncated request is a value the caller turns into an error response.
/// Not thread-safe: one reader belongs to the thread processing its chain.
/// </summary>
public sealed class DescriptorChainReader
{
    private readonly GuestMemory _memory;
    private readonly IReadOnlyList<GuestBuffer> _buffers;
    private readonly uint _totalLength;
    private int _bufferIndex;
    private uint _offsetInBuffer;
    private uint _consumed;

    internal DescriptorChainReader(GuestMemory memory, IReadOnlyList<GuestBuffer> buffers, uint totalLength)
    {
        _memory = memory;
        _buffers = buffers;
        _totalLength = totalLength;
    }

    /// <summary>Bytes not read yet.</summary>
    public uint Remaining => _totalLength - _consumed;

    /// <summary>Bytes read (or skipped) so far.</summary>
    public uint BytesRead => _consumed;

    public bool TryRead<T>(out T value) where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        Span<byte> bytes = size <= 512 ? stackalloc byte[size] : new byte[size];
        if (!TryReadBytes(bytes))
        {
            value = default;
            return false;
        }
        value = MemoryMarshal.Read<T>(bytes);
        return true;
    }

    /// <summary>Fills <paramref name="destination"/> entirely, or consumes nothing and returns false.</summary>
    public bool TryReadBytes(Span<byte> destination)
    {
        if ((uint)destination.Length > Remaining)
            return false;
        // Copy first, commit the position after: a failed guest access leaves the reader where it was.
        int bufferIndex = _bufferIndex;
        uint offset = _offsetInBuffer;
        int done = 0;
        while (done < destination.Length)
        {
            var buffer = _buffers[bufferIndex];
            uint available = buffer.Length - offset;
            int chunk = (int)Math.Min(available, (uint)(destination.Length - done));
            var address = buffer.Address.Offset(offset); // inside a validated buffer: cannot overflow
            if (_memory.TryRead(address, destination.Slice(done, chunk)) != GuestMemoryError.None)
                return false;
            done += chunk;
            offset += (uint)chunk;
            if (offset == buffer.Length)
            {
                bufferIndex++;
                offset = 0;
            }
        }
        _bufferIndex = bufferIndex;
        _offsetInBuffer = offset;
        _consumed += (uint)destination.Length;
        return true;
    }

    /// <summary>Advances past <paramref name="count"/> bytes, or consumes nothing and returns false.</summary>
    public bool TrySkip(uint count)
    {
        if (count > Remaining)
            return false;
        Advance(count);
        return true;
    }

    private void Advance(uint count)
    {
        while (count > 0)
        {
            uint available = _buffers[_bufferIndex].Length - _offsetInBuffer;
            uint chunk = Math.Min(available, count);
            _offsetInBuffer += chunk;
            _consumed += chunk;
            count -= chunk;
            if (_offsetInBuffer == _buffers[_bufferIndex].Length)
            {
                _bufferIndex++;
                _offsetInBuffer = 0;
            }
        }
    }
}
