namespace MiniVmm.Pci;

/// <summary>What a base address register decodes.</summary>
public enum PciBarKind
{
    /// <summary>Memory, 32-bit address (one register).</summary>
    Memory32,
    /// <summary>Memory, 64-bit address (this register holds the low half, the next one the high half).</summary>
    Memory64,
    /// <summary>Port I/O.</summary>
    Io,
}

/// <summary>
/// A BAR a device declares: its register index, size (a power of two; memory at least 16 bytes, I/O
/// 4 to 256 bytes, per PCI 3.0 §6.2.5.1) and type. A 64-bit BAR occupies registers Index and Index + 1.
/// </summary>
public sealed record PciBarDefinition
{
    public PciBarDefinition(int index, ulong size, PciBarKind kind, bool prefetchable = false)
    {
        int registers = kind == PciBarKind.Memory64 ? 2 : 1;
        if (index < 0 || index + registers > PciConfigSpace.PCI_STD_NUM_BARS)
            throw new ArgumentOutOfRangeException(nameof(index), $"BAR {index} ({kind}) does not fit in the six BAR registers");
        if (size == 0 || (size & (size - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(size), $"BAR size 0x{size:x} is not a power of two");
        if (kind == PciBarKind.Io ? size is < 4 or > 256 : size < 16)
            throw new ArgumentOutOfRangeException(nameof(size), $"BAR size 0x{size:x} is out of range for {kind}");
        if (kind == PciBarKind.Memory32 && size > 1UL << 31)
            throw new ArgumentOutOfRangeException(nameof(size), "a 32-bit BAR cannot exceed 2 GiB");
        if (kind == PciBarKind.Io && prefetchable)
            throw new ArgumentException("I/O BARs have no prefetchable bit", nameof(prefetchable));
        Index = index;
        Size = size;
        Kind = kind;
        Prefetchable = prefetchable;
    }

    public int Index { get; }
    public ulong Size { get; }
    public PciBarKind Kind { get; }
    public bool Prefetchable { get; }

    public bool IsIo => Kind == PciBarKind.Io;

    /// <summary>The read-only low bits of the BAR register (§6.2.5.1 figures 6-5 and 6-6).</summary>
    public uint Flags => Kind switch
    {
        PciBarKind.Io => PciConfigSpace.PCI_BASE_ADDRESS_SPACE_IO,
        PciBarKind.Memory64 => PciConfigSpace.PCI_BASE_ADDRESS_MEM_TYPE_64 | (Prefetchable ? PciConfigSpace.PCI_BASE_ADDRESS_MEM_PREFETCH : 0),
        _ => Prefetchable ? PciConfigSpace.PCI_BASE_ADDRESS_MEM_PREFETCH : 0,
    };

    /// <summary>The address bits the guest may write: every bit at or above log2(size) the space has.</summary>
    public ulong AddressMask => Kind switch
    {
        // x86 port space is 16 bits; Linux masks I/O BARs with IO_SPACE_LIMIT (0xFFFF) anyway.
        PciBarKind.Io => ~(Size - 1) & 0xFFFC,
        PciBarKind.Memory32 => ~(Size - 1) & PciConfigSpace.PCI_BASE_ADDRESS_MEM_MASK,
        _ => ~(Size - 1) & ~0xFUL,
    };
}
