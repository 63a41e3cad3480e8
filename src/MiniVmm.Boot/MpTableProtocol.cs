using System.Runtime.InteropServices;

namespace MiniVmm.Boot;

// Intel MultiProcessor Specification 1.4 structures, named as in Linux arch/x86/include/asm/mpspec_def.h.
// All little-endian and packed; sizes are asserted in the tests.

/// <summary><c>struct mpf_intel</c>: the 16-byte floating pointer Linux finds by scanning for "_MP_" (MP spec 4.1).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct MpfIntel
{
    public const uint SignatureMagic = 0x5F50_4D5F; // "_MP_"

    public uint Signature;
    public uint PhysPtr;       // guest-physical address of the configuration table
    public byte Length;        // in 16-byte units: 1
    public byte Specification; // 4 = MP spec 1.4
    public byte Checksum;      // makes the 16 bytes sum to 0
    public byte Feature1;      // 0: a configuration table is present (no default config)
    public byte Feature2;
    public byte Feature3;
    public byte Feature4;
    public byte Feature5;
}

/// <summary><c>struct mpc_table</c>: the configuration table header (MP spec 4.2), 44 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct MpcTable
{
    public const uint SignatureMagic = 0x504D_4350; // "PCMP"

    public uint Signature;
    public ushort Length;     // header plus all entries
    public byte Spec;
    public byte Checksum;     // makes the whole table sum to 0
    public Bytes8 Oem;
    public Bytes12 ProductId;
    public uint OemPtr;
    public ushort OemSize;
    public ushort OemCount;   // number of entries
    public uint Lapic;        // local APIC address
    public uint Reserved;
}

/// <summary><c>struct mpc_cpu</c>: processor entry (type 0), 20 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct MpcCpu
{
    public const byte Enabled = 0x01;
    public const byte BootProcessor = 0x02;

    public byte Type;
    public byte ApicId;
    public byte ApicVer;
    public byte CpuFlag;
    public uint CpuFeature;   // CPUID signature (family/model/stepping)
    public uint FeatureFlag;  // CPUID.1:EDX subset
    public ulong Reserved;
}

/// <summary><c>struct mpc_bus</c>: bus entry (type 1), 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct MpcBus
{
    public byte Type;
    public byte BusId;
    public Bytes6 BusType;    // "PCI   ", "ISA   "
}

/// <summary><c>struct mpc_ioapic</c>: I/O APIC entry (type 2), 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct MpcIoapic
{
    public const byte Usable = 0x01;

    public byte Type;
    public byte ApicId;
    public byte ApicVer;
    public byte Flags;
    public uint ApicAddr;
}

/// <summary><c>struct mpc_intsrc</c>: I/O interrupt assignment (type 3), 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct MpcIntsrc
{
    public byte Type;
    public byte IrqType;      // mp_INT, mp_NMI, mp_SMI, mp_ExtINT
    public ushort IrqFlag;    // polarity bits 0-1, trigger bits 2-3; 0 = conforms to the bus
    public byte SrcBus;
    public byte SrcBusIrq;    // ISA: the IRQ; PCI: (slot << 2) | pin
    public byte DstApic;
    public byte DstIrq;       // I/O APIC pin
}

/// <summary><c>struct mpc_lintsrc</c>: local interrupt assignment (type 4), 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct MpcLintsrc
{
    public byte Type;
    public byte IrqType;
    public ushort IrqFlag;
    public byte SrcBusId;
    public byte SrcBusIrq;
    public byte DestApic;     // 0xFF = all local APICs
    public byte DestApicLint; // LINT0 or LINT1
}

/// <summary>Entry type codes and interrupt kinds from the MP spec (Linux mpspec_def.h).</summary>
public static class MpSpec
{
    public const byte Processor = 0;
    public const byte Bus = 1;
    public const byte IoApic = 2;
    public const byte IntSrc = 3;
    public const byte LintSrc = 4;

    public const byte IrqInt = 0;
    public const byte IrqNmi = 1;
    public const byte IrqExtInt = 3;

    /// <summary>PCI INTx: active low (polarity 3), level triggered (trigger 3 &lt;&lt; 2).</summary>
    public const ushort IrqFlagPciLevelLow = 0x000F;
}
