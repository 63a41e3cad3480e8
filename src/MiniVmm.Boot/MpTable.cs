using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MiniVmm.Memory;

namespace MiniVmm.Boot;

/// <summary>A PCI INTx wire for the MP table: device (slot) 0–31, pin 0 = INTA … 3 = INTD, to an IOAPIC pin.</summary>
public readonly record struct PciInterruptRoute(byte Device, byte Pin, byte IoApicPin);

/// <summary>
/// Writes an Intel MP spec 1.4 table so Linux (CONFIG_X86_MPPARSE, no ACPI) finds the CPUs and the
/// IOAPIC. The floating pointer goes at 0x9FC00, the first place Linux scans after the first KiB
/// ("top 1K of base RAM"), with the configuration table right behind it, all in e820-reserved memory.
/// Bus 0 is PCI and bus 1 ISA: Linux's IO_APIC_get_PCI_irq_vector matches an entry's source bus id
/// against the PCI bus number itself, so PCI bus 0 must be MP bus 0 (kvmtool uses the same layout).
/// ISA IRQ n goes to IOAPIC pin n, including IRQ 0: KVM's default GSI routing sends GSI 0 (the
/// in-kernel PIT) to IOAPIC pin 0, not pin 2 as on a real chipset; Firecracker/kvmtool do the same.
/// </summary>
public static class MpTable
{
    /// <summary>APIC ids are 8 bits, 0xFF is broadcast, and the IOAPIC takes id = CPU count.</summary>
    public const int MaxCpus = 254;

    public const byte PciBusId = 0;
    public const byte IsaBusId = 1;
    public const int IsaIrqCount = 16;
    public const int IoApicPins = 24;
    public const uint IoApicAddress = 0xFEC0_0000;
    public const byte IoApicVersion = 0x11;   // what KVM's IOAPIC reports in its version register
    public const uint LocalApicAddress = 0xFEE0_0000;
    public const byte LocalApicVersion = 0x14;
    private const uint CpuSignature = 0x600;  // family 6: only informational for Linux
    private const uint CpuFeatures = 0x201;   // FPU | APIC
    private const byte AllLocalApics = 0xFF;

    public static void ValidateCpuCount(int cpuCount)
    {
        if (cpuCount < 1 || cpuCount > MaxCpus)
            throw new BootException($"{cpuCount} vCPUs requested; MiniVmm supports 1 to {MaxCpus} (8-bit APIC ids in the MP table)");
    }

    /// <summary>Writes the table at <see cref="BootLayout.MpTable"/> and returns the range it occupies.</summary>
    public static PhysicalRange Write(GuestMemory memory, int cpuCount, IReadOnlyList<PciInterruptRoute>? pciRoutes = null)
    {
        var bytes = Build(cpuCount, BootLayout.MpTable, pciRoutes);
        memory.Write(new GuestAddress(BootLayout.MpTable), bytes);
        return new PhysicalRange(BootLayout.MpTable, BootLayout.MpTable + (ulong)bytes.Length);
    }

    /// <summary>The floating pointer followed by the configuration table, as placed at <paramref name="address"/>.</summary>
    public static byte[] Build(int cpuCount, ulong address, IReadOnlyList<PciInterruptRoute>? pciRoutes = null)
    {
        ValidateCpuCount(cpuCount);
        pciRoutes ??= [];
        if (pciRoutes.Count > 32 * 4)
            throw new BootException($"{pciRoutes.Count} PCI interrupt routes given; at most 128 (32 devices × 4 pins) make sense");
        foreach (var route in pciRoutes)
        {
            if (route.Device > 31 || route.Pin > 3 || route.IoApicPin >= IoApicPins)
                throw new BootException($"PCI interrupt route {route} is out of range (device 0-31, pin 0-3, IOAPIC pin 0-23)");
        }
        int floating = Unsafe.SizeOf<MpfIntel>();
        int entries = cpuCount + 2 + 1 + IsaIrqCount + pciRoutes.Count + 2;
        int tableLength = Unsafe.SizeOf<MpcTable>() + (cpuCount * Unsafe.SizeOf<MpcCpu>()) + ((entries - cpuCount) * 8);
        var buffer = new byte[floating + tableLength];
        var table = buffer.AsSpan(floating);
        byte ioApicId = (byte)cpuCount;

        int offset = Unsafe.SizeOf<MpcTable>();
        for (int cpu = 0; cpu < cpuCount; cpu++)
        {
            Put(table, ref offset, new MpcCpu
            {
                Type = MpSpec.Processor, ApicId = (byte)cpu, ApicVer = LocalApicVersion,
                CpuFlag = (byte)(MpcCpu.Enabled | (cpu == 0 ? MpcCpu.BootProcessor : 0)),
                CpuFeature = CpuSignature, FeatureFlag = CpuFeatures,
            });
        }
        Put(table, ref offset, Bus(PciBusId, "PCI   "u8));
        Put(table, ref offset, Bus(IsaBusId, "ISA   "u8));
        Put(table, ref offset, new MpcIoapic { Type = MpSpec.IoApic, ApicId = ioApicId, ApicVer = IoApicVersion, Flags = MpcIoapic.Usable, ApicAddr = IoApicAddress });
        for (byte irq = 0; irq < IsaIrqCount; irq++)
        {
            // irqflag 0: "conforms to the bus" = ISA edge, active high.
            Put(table, ref offset, new MpcIntsrc { Type = MpSpec.IntSrc, IrqType = MpSpec.IrqInt, SrcBus = IsaBusId, SrcBusIrq = irq, DstApic = ioApicId, DstIrq = irq });
        }
        foreach (var route in pciRoutes)
        {
            Put(table, ref offset, new MpcIntsrc
            {
                Type = MpSpec.IntSrc, IrqType = MpSpec.IrqInt, IrqFlag = MpSpec.IrqFlagPciLevelLow, SrcBus = PciBusId,
                SrcBusIrq = (byte)((route.Device << 2) | route.Pin), DstApic = ioApicId, DstIrq = route.IoApicPin,
            });
        }
        // The 8259 behind LINT0 of the BSP (virtual wire mode) and NMI on LINT1 of every CPU.
        Put(table, ref offset, new MpcLintsrc { Type = MpSpec.LintSrc, IrqType = MpSpec.IrqExtInt, SrcBusId = IsaBusId, DestApic = 0, DestApicLint = 0 });
        Put(table, ref offset, new MpcLintsrc { Type = MpSpec.LintSrc, IrqType = MpSpec.IrqNmi, SrcBusId = IsaBusId, DestApic = AllLocalApics, DestApicLint = 1 });

        var header = new MpcTable
        {
            Signature = MpcTable.SignatureMagic, Length = (ushort)tableLength, Spec = 4,
            OemCount = (ushort)entries, Lapic = LocalApicAddress,
        };
        "MINIVMM "u8.CopyTo(header.Oem);
        "MINIVMM     "u8.CopyTo(header.ProductId);
        MemoryMarshal.Write(table, in header);
        table[7] = Checksum(table);

        var pointer = new MpfIntel { Signature = MpfIntel.SignatureMagic, PhysPtr = (uint)(address + (ulong)floating), Length = 1, Specification = 4 };
        MemoryMarshal.Write(buffer, in pointer);
        buffer[10] = Checksum(buffer.AsSpan(0, floating));
        return buffer;
    }

    private static MpcBus Bus(byte id, ReadOnlySpan<byte> type)
    {
        var bus = new MpcBus { Type = MpSpec.Bus, BusId = id };
        type.CopyTo(bus.BusType);
        return bus;
    }

    private static void Put<T>(Span<byte> table, ref int offset, in T entry) where T : unmanaged
    {
        MemoryMarshal.Write(table[offset..], in entry);
        offset += Unsafe.SizeOf<T>();
    }

    /// <summary>The byte that makes the span (whose checksum byte is still 0) sum to 0 mod 256.</summary>
    private static byte Checksum(ReadOnlySpan<byte> bytes)
    {
        byte sum = 0;
        foreach (byte b in bytes)
            sum += b;
        return (byte)-sum;
    }
}
