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
        var chunks = new Chunks(this, offset, destination.Length);
        while (chunks.TryNext(out var address, out int done, out int count))
        {
            var error = memory.TryRead(address, destination.Slice(done, count));
            if (error != GuestMemoryError.None)
                return error;
        }
        return chunks.Error;
    }

    /// <summary>
    /// Copies <paramref name="source"/> into the backing at <paramref name="offset"/>, across entries (cross-domain
    /// rings may straddle pages that are not contiguous in guest memory); the caller checked the range.
    /// </summary>
    public GuestMemoryError TryWrite(GuestMemory memory, ulong offset, ReadOnlySpan<byte> source)
    {
        var chunks = new Chunks(this, offset, source.Length);
        while (chunks.TryNext(out var address, out int done, out int count))
        {
            var error = memory.TryWrite(address, source.Slice(done, count));
            if (error != GuestMemoryError.None)
                return error;
        }
        return chunks.Error;
    }

    /// <summary>Walks [offset, offset + length) of the linear backing as pieces that each lie in one entry.</summary>
    private ref struct Chunks
    {
        private readonly BackingStore _store;
        private readonly int _length;
        private ulong _offset;
        private int _index;
        private int _done;

        public Chunks(BackingStore store, ulong offset, int length)
        {
            _store = store;
            _offset = offset;
            _length = length;
            int index = Array.BinarySearch(store._starts, offset);
            _index = index < 0 ? ~index - 1 : index;
        }

        /// <summary>PartialBuffer when the range ran past the last entry.</summary>
        public GuestMemoryError Error { get; private set; }

        public bool TryNext(out GuestAddress address, out int done, out int count)
        {
            address = default;
            done = _done;
            count = 0;
            if (_done >= _length)
                return false;
            if (_index < 0 || _index >= _store._entries.Length)
            {
                Error = GuestMemoryError.PartialBuffer;
                return false;
            }
            var entry = _store._entries[_index];
            ulong inEntry = _offset - _store._starts[_index];
            count = (int)Math.Min(entry.Length - inEntry, (ulong)(_length - _done));
            address = entry.Address.Offset(inEntry);
            _done += count;
            _offset += (ulong)count;
            _index++;
            return true;
        }
    }
}
