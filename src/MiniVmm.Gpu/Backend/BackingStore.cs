using MiniVmm.Memory;
using MiniVmm.Virtio.Queue;

namespace MiniVmm.Gpu.Backend;

/// <summary>
/// A resource's guest backing: mem entries already checked to lie in guest memory, seen as one linear
/// byte range. Entries may overlap (harmless: the device only reads them); zero-length ones are dropped.
/// Immutable, so it needs no lock of its own.
/// </summary>
internal sealed class BackingStore
{
    private readonly GuestBuffer[] _entries;
    private readonly ulong[] _starts; // linear offset of each entry

    public BackingStore(IReadOnlyList<GuestBuffer> entries)
    {
        _entries = [.. entries.Where(e => e.Length > 0)];
        _starts = new ulong[_entries.Length];
        ulong offset = 0;
        for (int i = 0; i < _entries.Length; i++)
        {
            _starts[i] = offset;
            offset += _entries[i].Length; // at most 2^17 entries of < 2^32 bytes: no overflow
        }
        Length = offset;
    }

    public ulong Length { get; }

    public int EntryCount => _entries.Length;

    /// <summary>Copies [offset, offset + destination.Length) out of the backing; the caller checked the range.</summary>
    public GuestMemoryError TryRead(GuestMemory memory, ulong offset, Span<byte> destination)
    {
        int index = Array.BinarySearch(_starts, offset);
        if (index < 0)
            index = ~index - 1;
        int done = 0;
        while (done < destination.Length)
        {
            if (index >= _entries.Length)
                return GuestMemoryError.PartialBuffer;
            var entry = _entries[index];
            ulong inEntry = offset - _starts[index];
            int chunk = (int)Math.Min(entry.Length - inEntry, (ulong)(destination.Length - done));
            var error = memory.TryRead(entry.Address.Offset(inEntry), destination.Slice(done, chunk));
            if (error != GuestMemoryError.None)
                return error;
            done += chunk;
            offset += (ulong)chunk;
            index++;
        }
        return GuestMemoryError.None;
    }
}
