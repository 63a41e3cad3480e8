using MiniVmm.Memory;

namespace MiniVmm.Machine;

/// <summary>
/// Where RAM and device windows sit in guest-physical space. RAM fills from 0 up to the 32-bit MMIO
/// hole at 3 GiB and continues at 4 GiB; the hole holds PCI BARs, the IOAPIC, the LAPIC and the TSS.
/// </summary>
public static class MemoryLayout
{
    public const ulong MmioHoleStart = 0xC000_0000;
    public const ulong HighRamStart = 0x1_0000_0000;
    public const ulong IoapicAddress = 0xFEC0_0000;
    public const ulong LapicAddress = 0xFEE0_0000;
    /// <summary>Three pages KVM needs for the real-mode TSS on Intel hosts, below 4 GiB and outside RAM.</summary>
    public const ulong TssAddress = 0xFFFB_D000;
    public const ulong IdentityMapAddress = 0xFFFB_C000;

    /// <summary>Smallest RAM that holds the boot structures, a kernel and an initrd with room to run.</summary>
    public const ulong MinimumRam = 16UL << 20;
    public const ulong MaximumRam = 1UL << 40;

    public static IReadOnlyList<(GuestAddress Start, ulong Size)> RamRanges(ulong ramSize)
    {
        if (ramSize <= MmioHoleStart)
            return [(new GuestAddress(0), ramSize)];
        return [(new GuestAddress(0), MmioHoleStart), (new GuestAddress(HighRamStart), ramSize - MmioHoleStart)];
    }
}
