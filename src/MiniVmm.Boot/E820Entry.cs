using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MiniVmm.Boot;

/// <summary>Linux <c>struct boot_e820_entry</c>: one range of the zero page's memory map (20 bytes, packed).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct E820Entry(ulong addr, ulong size, uint type)
{
    /// <summary>Usable RAM.</summary>
    public const uint Ram = 1;

    /// <summary>Not RAM the kernel may allocate (BIOS area, MP table).</summary>
    public const uint Reserved = 2;

    public ulong Addr = addr;
    public ulong Size = size;
    public uint Type = type;

    public readonly ulong End => Addr + Size;

    public override readonly string ToString() =>
        $"[0x{Addr:x}, 0x{End:x}) {(Type == Ram ? "usable" : Type == Reserved ? "reserved" : $"type {Type}")}";
}

/// <summary><c>e820_table[E820_MAX_ENTRIES_ZEROPAGE]</c>: 128 entries at zero-page offset 0x2D0.</summary>
[InlineArray(E820Map.MaxEntries)]
public struct E820Table
{
    private E820Entry _element0;
}
