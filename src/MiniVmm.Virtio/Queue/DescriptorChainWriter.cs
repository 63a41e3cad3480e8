using System.Runtime.InteropServices;
using MiniVmm.Memory;

namespace MiniVmm.Virtio.Queue;

/// <summary>
/// Writes across a chain's device-writable buffers as one byte stream, through <see cref="GuestMemory"/>
/// only. Writes are all-or-nothing on length: when the space left is too small nothing is written and the
/// call returns false. <see cref="BytesWritten"/> is the value the device puts in used.len.
/// Not thread-safe: one writer belongs to the thread processing its chain.
/// </summary>
public sealed class DescriptorChainWriter
{
    private readonly GuestMemory _memory;
    private readonly uint _totalLength;
    private ChainCursor _cursor;
    private uint _written;

    internal DescriptorChainWriter(GuestMemory memory, IReadOnlyList<GuestBuffer> buffers, uint totalLength)
    {
        _memory = memory;
        _cursor = new ChainCursor(buffers);
        _totalLength = totalLength;
    }

    /// <summary>Space left in the writable buffers.</summary>
    public uint Remaining => _totalLength - _written;

    public uint BytesWritten => _written;

    public bool TryWrite<T>(in T value) where T : unmanaged =>
        TryWriteBytes(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)));

    /// <summary>Writes all of <paramref name="source"/>, or nothing when it does not fit.</summary>
    public bool TryWriteBytes(ReadOnlySpan<byte> source)
    {
        if ((uint)source.Length > Remaining)
            return false;
        int done = 0;
        while (done < source.Length)
        {
            var (address, chunk) = _cursor.Next((uint)(source.Length - done));
            // A failure here means guest memory changed after validation; what was written stays counted.
            if (_memory.TryWrite(address, source.Slice(done, (int)chunk)) != GuestMemoryError.None)
                return false;
            _cursor.Step(chunk);
            done += (int)chunk;
            _written += chunk;
        }
        return true;
    }
}
