using System.Runtime.InteropServices;

namespace MiniVmm.Kvm;

/// <summary>struct kvm_userspace_memory_region (32 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmUserspaceMemoryRegion
{
    public uint Slot, Flags;
    public ulong GuestPhysAddr, MemorySize, UserspaceAddr;

    public const uint FlagLogDirtyPages = 1;
    public const uint FlagReadonly = 2;
}

/// <summary>struct kvm_irq_level (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmIrqLevel
{
    public uint Irq, Level;
}

/// <summary>struct kvm_pit_config (64 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
public struct KvmPitConfig
{
    [FieldOffset(0)] public uint Flags;

    /// <summary>KVM_PIT_SPEAKER_DUMMY: port 0x61 handled in the kernel, never exits.</summary>
    public const uint SpeakerDummy = 1;
}

/// <summary>struct kvm_irqfd (32 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct KvmIrqfd
{
    [FieldOffset(0)] public uint Fd;
    [FieldOffset(4)] public uint Gsi;
    [FieldOffset(8)] public uint Flags;
    [FieldOffset(12)] public uint ResampleFd;

    public const uint FlagDeassign = 1;
    public const uint FlagResample = 2;
}

/// <summary>struct kvm_ioeventfd (64 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
public struct KvmIoeventfd
{
    [FieldOffset(0)] public ulong Datamatch;
    [FieldOffset(8)] public ulong Addr;
    [FieldOffset(16)] public uint Len;
    [FieldOffset(20)] public int Fd;
    [FieldOffset(24)] public uint Flags;

    public const uint FlagDatamatch = 1;
    public const uint FlagPio = 2;
    public const uint FlagDeassign = 4;
}

/// <summary>struct kvm_msi (32 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct KvmMsi
{
    [FieldOffset(0)] public uint AddressLo;
    [FieldOffset(4)] public uint AddressHi;
    [FieldOffset(8)] public uint Data;
    [FieldOffset(12)] public uint Flags;
    [FieldOffset(16)] public uint DevId;
}

/// <summary>struct kvm_irq_routing_entry (48 bytes); the union holds either an irqchip pin or an MSI message.</summary>
[StructLayout(LayoutKind.Explicit, Size = 48)]
public struct KvmIrqRoutingEntry
{
    [FieldOffset(0)] public uint Gsi;
    [FieldOffset(4)] public uint Type;
    [FieldOffset(8)] public uint Flags;
    [FieldOffset(16)] public uint IrqchipOrAddressLo;
    [FieldOffset(20)] public uint PinOrAddressHi;
    [FieldOffset(24)] public uint MsiData;
    [FieldOffset(28)] public uint MsiDevId;

    public const uint TypeIrqchip = 1;
    public const uint TypeMsi = 2;
    public const uint IrqchipPicMaster = 0, IrqchipPicSlave = 1, IrqchipIoapic = 2;

    public static KvmIrqRoutingEntry Irqchip(uint gsi, uint irqchip, uint pin) =>
        new() { Gsi = gsi, Type = TypeIrqchip, IrqchipOrAddressLo = irqchip, PinOrAddressHi = pin };

    public static KvmIrqRoutingEntry Msi(uint gsi, uint addressLo, uint addressHi, uint data) =>
        new() { Gsi = gsi, Type = TypeMsi, IrqchipOrAddressLo = addressLo, PinOrAddressHi = addressHi, MsiData = data };
}
