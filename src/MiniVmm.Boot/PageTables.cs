using System.Buffers.Binary;
using MiniVmm.Memory;

namespace MiniVmm.Boot;

/// <summary>
/// Identity-map page tables for the 64-bit entry: virtual = physical for the first 4 GiB in 2 MiB
/// pages (PML4[0] → one PDPT → four page directories). boot.rst requires the kernel, zero page and
/// command line to be identity-mapped; startup_64 builds its own tables right after.
/// </summary>
public static class PageTables
{
    public const ulong Present = 1 << 0;
    public const ulong Writable = 1 << 1;
    public const ulong LargePage = 1 << 7;

    public const int DirectoryCount = 4;
    private const int EntriesPerTable = 512;
    private const ulong TwoMiB = 2 << 20;
    private const ulong OneGiB = 1 << 30;

    /// <summary>The tables occupy [Pml4, PageDirectories + 4 pages): 0x9000–0xF000.</summary>
    public static PhysicalRange Area => new(BootLayout.Pml4, BootLayout.PageDirectories + (DirectoryCount * GuestMemory.PageSize));

    /// <summary>Writes the tables and returns the value for CR3.</summary>
    public static ulong Write(GuestMemory memory)
    {
        var tables = new byte[Area.Length];
        var pml4 = tables.AsSpan(0, 4096);
        var pdpt = tables.AsSpan((int)(BootLayout.Pdpt - BootLayout.Pml4), 4096);
        BinaryPrimitives.WriteUInt64LittleEndian(pml4, BootLayout.Pdpt | Present | Writable);
        for (int d = 0; d < DirectoryCount; d++)
        {
            ulong directory = BootLayout.PageDirectories + ((ulong)d * GuestMemory.PageSize);
            BinaryPrimitives.WriteUInt64LittleEndian(pdpt[(d * 8)..], directory | Present | Writable);
            var pd = tables.AsSpan((int)(directory - BootLayout.Pml4), 4096);
            for (int e = 0; e < EntriesPerTable; e++)
            {
                ulong physical = ((ulong)d * OneGiB) + ((ulong)e * TwoMiB);
                BinaryPrimitives.WriteUInt64LittleEndian(pd[(e * 8)..], physical | Present | Writable | LargePage);
            }
        }
        memory.Write(new GuestAddress(BootLayout.Pml4), tables);
        return BootLayout.Pml4;
    }
}
