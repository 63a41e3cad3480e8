using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MiniVmm.Kvm.Tests;

/// <summary>Struct sizes and ioctl numbers as compiled from linux/kvm.h 6.1 (x86-direct-boot.md section 1.0).</summary>
public sealed class LayoutTests
{
    [Fact]
    public void StructSizesMatchTheKernelHeader()
    {
        Assert.Equal(144, Unsafe.SizeOf<KvmRegs>());
        Assert.Equal(24, Unsafe.SizeOf<KvmSegment>());
        Assert.Equal(16, Unsafe.SizeOf<KvmDtable>());
        Assert.Equal(312, Unsafe.SizeOf<KvmSregs>());
        Assert.Equal(416, Unsafe.SizeOf<KvmFpu>());
        Assert.Equal(4096, Unsafe.SizeOf<KvmXsave>());
        Assert.Equal(1024, Unsafe.SizeOf<KvmLapicState>());
        Assert.Equal(16, Unsafe.SizeOf<KvmMsrEntry>());
        Assert.Equal(72, Unsafe.SizeOf<KvmGuestDebug>());
        Assert.Equal(40, Unsafe.SizeOf<KvmCpuidEntry2>());
        Assert.Equal(64, Unsafe.SizeOf<KvmVcpuEvents>());
        Assert.Equal(24, Unsafe.SizeOf<KvmTranslation>());
        Assert.Equal(32, Unsafe.SizeOf<KvmUserspaceMemoryRegion>());
        Assert.Equal(64, Unsafe.SizeOf<KvmPitConfig>());
        Assert.Equal(32, Unsafe.SizeOf<KvmIrqfd>());
        Assert.Equal(64, Unsafe.SizeOf<KvmIoeventfd>());
        Assert.Equal(32, Unsafe.SizeOf<KvmMsi>());
        Assert.Equal(48, Unsafe.SizeOf<KvmIrqRoutingEntry>());
    }

    [Fact]
    public void FieldOffsetsMatchTheKernelHeader()
    {
        Assert.Equal(192, (int)Marshal.OffsetOf<KvmSregs>(nameof(KvmSregs.Gdt)));
        Assert.Equal(224, (int)Marshal.OffsetOf<KvmSregs>(nameof(KvmSregs.Cr0)));
        Assert.Equal(264, (int)Marshal.OffsetOf<KvmSregs>(nameof(KvmSregs.Efer)));
        Assert.Equal(128, (int)Marshal.OffsetOf<KvmFpu>(nameof(KvmFpu.Fcw)));
        Assert.Equal(408, (int)Marshal.OffsetOf<KvmFpu>(nameof(KvmFpu.Mxcsr)));
        Assert.Equal(128, (int)Marshal.OffsetOf<KvmRegs>(nameof(KvmRegs.Rip)));
    }

    [Theory]
    [InlineData("KVM_GET_API_VERSION", 0xAE00u)]
    [InlineData("KVM_CREATE_VM", 0xAE01u)]
    [InlineData("KVM_GET_SUPPORTED_CPUID", 0xC008AE05u)]
    [InlineData("KVM_CREATE_VCPU", 0xAE41u)]
    [InlineData("KVM_SET_USER_MEMORY_REGION", 0x4020AE46u)]
    [InlineData("KVM_SET_TSS_ADDR", 0xAE47u)]
    [InlineData("KVM_SET_IDENTITY_MAP_ADDR", 0x4008AE48u)]
    [InlineData("KVM_CREATE_IRQCHIP", 0xAE60u)]
    [InlineData("KVM_IRQ_LINE", 0x4008AE61u)]
    [InlineData("KVM_SET_GSI_ROUTING", 0x4008AE6Au)]
    [InlineData("KVM_IRQFD", 0x4020AE76u)]
    [InlineData("KVM_CREATE_PIT2", 0x4040AE77u)]
    [InlineData("KVM_IOEVENTFD", 0x4040AE79u)]
    [InlineData("KVM_SIGNAL_MSI", 0x4020AEA5u)]
    [InlineData("KVM_RUN", 0xAE80u)]
    [InlineData("KVM_GET_REGS", 0x8090AE81u)]
    [InlineData("KVM_SET_REGS", 0x4090AE82u)]
    [InlineData("KVM_GET_SREGS", 0x8138AE83u)]
    [InlineData("KVM_SET_SREGS", 0x4138AE84u)]
    [InlineData("KVM_GET_MSRS", 0xC008AE88u)]
    [InlineData("KVM_SET_MSRS", 0x4008AE89u)]
    [InlineData("KVM_GET_FPU", 0x81A0AE8Cu)]
    [InlineData("KVM_SET_FPU", 0x41A0AE8Du)]
    [InlineData("KVM_GET_LAPIC", 0x8400AE8Eu)]
    [InlineData("KVM_SET_LAPIC", 0x4400AE8Fu)]
    [InlineData("KVM_SET_CPUID2", 0x4008AE90u)]
    [InlineData("KVM_GET_MP_STATE", 0x8004AE98u)]
    [InlineData("KVM_SET_MP_STATE", 0x4004AE99u)]
    public void IoctlNumbersMatchTheKernelHeader(string name, uint expected)
    {
        nuint actual = name switch
        {
            "KVM_GET_API_VERSION" => Ioctls.GetApiVersion,
            "KVM_CREATE_VM" => Ioctls.CreateVm,
            "KVM_GET_SUPPORTED_CPUID" => Ioctls.GetSupportedCpuid,
            "KVM_CREATE_VCPU" => Ioctls.CreateVcpu,
            "KVM_SET_USER_MEMORY_REGION" => Ioctls.SetUserMemoryRegion,
            "KVM_SET_TSS_ADDR" => Ioctls.SetTssAddr,
            "KVM_SET_IDENTITY_MAP_ADDR" => Ioctls.SetIdentityMapAddr,
            "KVM_CREATE_IRQCHIP" => Ioctls.CreateIrqchip,
            "KVM_IRQ_LINE" => Ioctls.IrqLine,
            "KVM_SET_GSI_ROUTING" => Ioctls.SetGsiRouting,
            "KVM_IRQFD" => Ioctls.Irqfd,
            "KVM_CREATE_PIT2" => Ioctls.CreatePit2,
            "KVM_IOEVENTFD" => Ioctls.Ioeventfd,
            "KVM_SIGNAL_MSI" => Ioctls.SignalMsi,
            "KVM_RUN" => Ioctls.Run,
            "KVM_GET_REGS" => Ioctls.GetRegs,
            "KVM_SET_REGS" => Ioctls.SetRegs,
            "KVM_GET_SREGS" => Ioctls.GetSregs,
            "KVM_SET_SREGS" => Ioctls.SetSregs,
            "KVM_GET_MSRS" => Ioctls.GetMsrs,
            "KVM_SET_MSRS" => Ioctls.SetMsrs,
            "KVM_GET_FPU" => Ioctls.GetFpu,
            "KVM_SET_FPU" => Ioctls.SetFpu,
            "KVM_GET_LAPIC" => Ioctls.GetLapic,
            "KVM_SET_LAPIC" => Ioctls.SetLapic,
            "KVM_SET_CPUID2" => Ioctls.SetCpuid2,
            "KVM_GET_MP_STATE" => Ioctls.GetMpState,
            "KVM_SET_MP_STATE" => Ioctls.SetMpState,
            _ => throw new ArgumentException(name),
        };
        Assert.Equal(expected, (uint)actual);
    }
}
