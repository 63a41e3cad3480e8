namespace MiniVmm.Pci;

/// <summary>A half-open guest address range [Start, End) BARs are carved from.</summary>
public readonly record struct PciWindow(ulong Start, ulong End)
{
    public ulong Length => End > Start ? End - Start : 0;

    public override string ToString() => $"[0x{Start:x}, 0x{End:x})";
}

/// <summary>
/// Assigns BAR addresses when the machine is built, as firmware would: each BAR naturally aligned
/// (its size), bump-allocated from a window. 64-bit prefetchable BARs (large host-visible regions) go
/// to the window above RAM; every other memory BAR below 4 GiB, where any driver can reach it.
/// Not thread-safe: used while the machine is built.
/// </summary>
public sealed class PciBarAllocator
{
    /// <summary>The 32-bit MMIO hole: from 3 GiB (where low RAM stops) up to the IOAPIC at 0xFEC0_0000.</summary>
    public static readonly PciWindow DefaultMmio32 = new(0xC000_0000, 0xFEC0_0000);

    /// <summary>
    /// Lowest base of the 64-bit window: 64 GiB, so a guest with up to 63 GiB of RAM (which ends at
    /// RAM size + 1 GiB because of the hole) keeps the same BAR addresses, and an 8 GiB BAR is aligned.
    /// </summary>
    public const ulong DefaultMmio64Base = 0x10_0000_0000;

    /// <summary>
    /// Upper limit for 64-bit BARs: 2^46, what 4-level-paging Linux can map (crosvm uses the same
    /// bound), lowered to the CPU's physical address width when that is smaller.
    /// </summary>
    public const int MaxPhysicalAddressBits = 46;

    /// <summary>I/O ports above the legacy ISA range, where PC firmware puts PCI I/O BARs.</summary>
    public static readonly PciWindow DefaultIo = new(0xC000, 0x1_0000);

    private ulong _nextMmio32;
    private ulong _nextMmio64;
    private ulong _nextIo;

    public PciBarAllocator(PciWindow mmio32, PciWindow mmio64, PciWindow io)
    {
        Mmio32 = mmio32;
        Mmio64 = mmio64;
        Io = io;
        _nextMmio32 = mmio32.Start;
        _nextMmio64 = mmio64.Start;
        _nextIo = io.Start;
    }

    public PciWindow Mmio32 { get; }
    public PciWindow Mmio64 { get; }
    public PciWindow Io { get; }

    /// <summary>
    /// The usual layout for a guest whose RAM ends at <paramref name="ramEnd"/>: the 64-bit window starts
    /// at 64 GiB or the next 64 GiB boundary above RAM and ends at 2^min(46, physical address bits).
    /// </summary>
    public static PciBarAllocator CreateDefault(ulong ramEnd, int physicalAddressBits)
    {
        int bits = Math.Min(physicalAddressBits, MaxPhysicalAddressBits);
        ulong start = Math.Max(DefaultMmio64Base, AlignUp(ramEnd, DefaultMmio64Base) ?? ulong.MaxValue);
        ulong end = 1UL << bits;
        return new PciBarAllocator(DefaultMmio32, new PciWindow(start, Math.Max(start, end)), DefaultIo);
    }

    /// <summary>Chooses an address for <paramref name="bar"/>; throws when its window is full (a machine configuration error).</summary>
    public ulong Allocate(PciBarDefinition bar)
    {
        ArgumentNullException.ThrowIfNull(bar);
        if (bar.IsIo)
            return Take(ref _nextIo, Io, bar);
        if (bar.Kind == PciBarKind.Memory64 && bar.Prefetchable && Mmio64.Length > 0)
            return Take(ref _nextMmio64, Mmio64, bar);
        return Take(ref _nextMmio32, Mmio32, bar);
    }

    private static ulong Take(ref ulong next, PciWindow window, PciBarDefinition bar)
    {
        if (AlignUp(next, bar.Size) is not { } start || start >= window.End || bar.Size > window.End - start)
            throw new InvalidOperationException($"no room for BAR {bar.Index} ({bar.Kind}, 0x{bar.Size:x} bytes) in window {window} (next free 0x{next:x})");
        next = start + bar.Size;
        return start;
    }

    private static ulong? AlignUp(ulong value, ulong alignment)
    {
        ulong mask = alignment - 1;
        return value > ulong.MaxValue - mask ? null : (value + mask) & ~mask;
    }
}
