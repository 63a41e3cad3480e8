using MiniVmm.Gpu.Protocol;
using MiniVmm.Memory;
using MiniVmm.Virtio.Queue;

namespace MiniVmm.Gpu.Backend;

/// <summary>
/// A resource's guest backing: mem entries already checked to lie in guest memory, seen as one linear
/// byte range. Entries may overlap (harmless: the device only reads them); zero-length ones are dropped, and an
/// entry that starts where the previous one ended joins it (drivers list physically contiguous memory a page per
/// entry), so copies move a few large spans instead of a page at a time. Immutable, so it needs no lock of its own.
/// </summary>
internal sealed class BackingStore
{
    private readonly Run[] _runs;
    private readonly ulong[] _starts; // linear offset of each run

    public BackingStore(IReadOnlyList<GuestBuffer> entries)
    {
        EntryCount = entries.Count;
        var runs = new List<Run>(entries.Count);
        foreach (var entry in entries.Where(e => e.Length > 0))
        {
            // Each entry was checked to end inside guest memory, so End never wraps.
            if (runs.Count > 0 && runs[^1].End == entry.Address.Value)
                runs[^1] = runs[^1] with { Length = runs[^1].Length + entry.Length };
            else
                runs.Add(new Run(entry.Address, entry.Length));
        }
        _runs = [.. runs];
        _starts = new ulong[_runs.Length];
        ulong offset = 0;
        for (int i = 0; i < _runs.Length; i++)
        {
            _starts[i] = offset;
            offset += _runs[i].Length; // at most 2^17 entries of < 2^32 bytes: no overflow
        }
        Length = offset;
    }

    public ulong Length { get; }

    /// <summary>Mem entries the guest sent (what the host budget charges), before runs were joined.</summary>
    public int EntryCount { get; }

    /// <summary>
    /// Mem entries (ATTACH_BACKING, CREATE_BLOB) as guest buffers, every one checked to lie in guest memory, or the
    /// error response. Runs before the resource lock is taken: it reads only the guest's entries.
    /// </summary>
    public static GpuResponse? CheckEntries(GuestMemory memory, ReadOnlySpan<VirtioGpuMemEntry> entries, out GuestBuffer[] buffers)
    {
        buffers = new GuestBuffer[entries.Length];
        if (entries.Length > VirtioGpuBackend.MaxBackingEntries)
            return GpuResponse.ErrInvalidParameter($"{entries.Length} backing entries, more than {VirtioGpuBackend.MaxBackingEntries}");
        for (int i = 0; i < entries.Length; i++)
        {
            var address = new GuestAddress(entries[i].Addr);
            var error = memory.Locate(address, entries[i].Length, out _, out _);
            if (error != GuestMemoryError.None)
                return GpuResponse.ErrUnspec($"backing entry {i} at {address} (+0x{entries[i].Length:x}) is not in guest memory: {error}");
            buffers[i] = new GuestBuffer(address, entries[i].Length);
        }
        return null;
    }

    /// <summary>Copies [offset, offset + destination.Length) out of the backing; the caller checked the range.</summary>
    public GuestMemoryError TryRead(GuestMemory memory, ulong offset, Span<byte> destination)
    {
        var spans = new GuestSpans(this, memory, offset, destination.Length);
        while (spans.TryNext(out var guest, out int done))
            guest.CopyTo(destination[done..]);
        return spans.Error;
    }

    /// <summary>
    /// Copies <paramref name="source"/> into the backing at <paramref name="offset"/>, across entries (cross-domain
    /// rings may straddle pages that are not contiguous in guest memory); the caller checked the range.
    /// </summary>
    public GuestMemoryError TryWrite(GuestMemory memory, ulong offset, ReadOnlySpan<byte> source)
    {
        var spans = new GuestSpans(this, memory, offset, source.Length);
        while (spans.TryNext(out var guest, out int done))
            source.Slice(done, guest.Length).CopyTo(guest);
        return spans.Error;
    }

    /// <summary>Entries that follow each other in guest memory, joined.</summary>
    private readonly record struct Run(GuestAddress Start, ulong Length)
    {
        public ulong End => Start.Value + Length;
    }

    /// <summary>
    /// Walks [offset, offset + length) of the linear backing as host spans of guest memory, each inside one run and
    /// one memory region (<see cref="GuestMemory.TryGetContiguousSpan"/> checks every piece).
    /// </summary>
    private ref struct GuestSpans
    {
        private readonly BackingStore _store;
        private readonly GuestMemory _memory;
        private readonly int _length;
        private ulong _offset;
        private int _index;
        private int _done;

        public GuestSpans(BackingStore store, GuestMemory memory, ulong offset, int length)
        {
            _store = store;
            _memory = memory;
            _offset = offset;
            _length = length;
            int index = Array.BinarySearch(store._starts, offset);
            _index = index < 0 ? ~index - 1 : index;
        }

        /// <summary>PartialBuffer when the range ran past the last entry; the memory's error when a piece is not RAM.</summary>
        public GuestMemoryError Error { get; private set; }

        public bool TryNext(out Span<byte> span, out int done)
        {
            span = default;
            done = _done;
            if (_done >= _length)
                return false;
            if (_index < 0 || _index >= _store._runs.Length)
            {
                Error = GuestMemoryError.PartialBuffer;
                return false;
            }
            var run = _store._runs[_index];
            ulong inRun = _offset - _store._starts[_index];
            ulong wanted = Math.Min(run.Length - inRun, (ulong)(_length - _done));
            Error = _memory.TryGetContiguousSpan(run.Start.Offset(inRun), wanted, out span);
            if (Error != GuestMemoryError.None)
                return false;
            // Never empty: the address lies in a region, so at least one byte of it does.
            _done += span.Length;
            _offset += (ulong)span.Length;
            if (inRun + (ulong)span.Length == run.Length)
                _index++;
            return true;
        }
    }
}
