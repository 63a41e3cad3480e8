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
    private readonly uint _totalLength;
    private ChainCursor _cursor;
    private uint _consumed;

    internal DescriptorChainReader(GuestMemory memory, IReadOnlyList<GuestBuffer> buffers, uint totalLength)
    {
        _memory = memory;
        _cursor = new ChainCursor(buffers);
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
        // Walk a copy, commit the position after: a failed guest access leaves the reader where it was.
        var cursor = _cursor;
        int done = 0;
        while (done < destination.Length)
        {
            var (address, chunk) = cursor.Next((uint)(destination.Length - done));
            if (_memory.TryRead(address, destination.Slice(done, (int)chunk)) != GuestMemoryError.None)
                return false;
            cursor.Step(chunk);
            done += (int)chunk;
        }
        _cursor = cursor;
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
            uint chunk = _cursor.Next(count).Length;
            _cursor.Step(chunk);
            _consumed += chunk;
            count -= chunk;
        }
    }
}
