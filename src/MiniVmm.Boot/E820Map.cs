using MiniVmm.Memory;

namespace MiniVmm.Boot;

/// <summary>
/// Builds the BIOS-style e820 memory map the kernel reads from the zero page. RAM below the EBDA
/// (0x9FC00) and from 1 MiB up is usable; [0x9FC00, 1 MiB) is reserved because the MP table lives
/// there and Linux must not allocate over it. Gaps (the PCI hole below 4 GiB) are simply absent,
/// which Linux reports as "available for PCI devices".
/// </summary>
public static class E820Map
{
    /// <summary>E820_MAX_ENTRIES_ZEROPAGE.</summary>
    public const int MaxEntries = 128;

    public static readonly PhysicalRange ReservedLowArea = new(BootLayout.EbdaStart, BootLayout.HighMemory);

    public static E820Entry[] Build(GuestMemory memory) =>
        Build(memory.Regions.Select(r => new PhysicalRange(r.Start.Value, r.End)));

    /// <summary>Entries sorted by address, non-overlapping, adjacent RAM merged.</summary>
    public static E820Entry[] Build(IEnumerable<PhysicalRange> ram)
    {
        var entries = new List<E820Entry> { new(ReservedLowArea.Start, ReservedLowArea.Length, E820Entry.Reserved) };
        foreach (var range in ram)
        {
            if (range.End < range.Start)
                throw new BootException($"RAM range {range} ends before it starts");
            if (range.Start < ReservedLowArea.Start)
                AddRam(entries, range.Start, Math.Min(range.End, ReservedLowArea.Start));
            if (range.End > ReservedLowArea.End)
                AddRam(entries, Math.Max(range.Start, ReservedLowArea.End), range.End);
        }
        entries.Sort((a, b) => a.Addr.CompareTo(b.Addr));

        var merged = new List<E820Entry>(entries.Count);
        foreach (var entry in entries)
        {
            if (merged.Count > 0)
            {
                var last = merged[^1];
                if (entry.Addr < last.End)
                    throw new BootException($"RAM ranges overlap at 0x{entry.Addr:x}");
                if (entry.Addr == last.End && entry.Type == last.Type && entry.Type == E820Entry.Ram)
                {
                    merged[^1] = new E820Entry(last.Addr, last.Size + entry.Size, last.Type);
                    continue;
                }
            }
            merged.Add(entry);
        }
        if (merged.Count > MaxEntries)
            throw new BootException($"the guest memory layout needs {merged.Count} e820 entries; the zero page holds {MaxEntries}");
        return [.. merged];
    }

    private static void AddRam(List<E820Entry> entries, ulong start, ulong end)
    {
        if (end > start)
            entries.Add(new E820Entry(start, end - start, E820Entry.Ram));
    }
}
