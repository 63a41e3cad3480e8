namespace MiniVmm.Kvm.Tests;

/// <summary>Talks to the real /dev/kvm (skipped with the reason on a host where it cannot be opened).</summary>
public sealed class DeviceTests
{
    [KvmFact]
    public void OpensKvmAndReportsTheCapabilitiesMiniVmmNeeds()
    {
        using var kvm = KvmSystem.Open(KvmAvailability.Device);
        foreach (var capability in new[] { KvmCapability.Irqchip, KvmCapability.UserMemory, KvmCapability.Pit2,
                     KvmCapability.Irqfd, KvmCapability.Ioeventfd, KvmCapability.IrqRouting, KvmCapability.ImmediateExit })
            Assert.True(kvm.CheckExtension(capability) > 0, $"KVM lacks {capability}");
        Assert.True(kvm.VcpuMmapSize >= 4096);
    }

    [KvmFact]
    public void SupportedCpuidHasTheBasicLeaves()
    {
        using var kvm = KvmSystem.Open(KvmAvailability.Device);
        var entries = kvm.GetSupportedCpuid();
        Assert.Contains(entries, e => e.Function == 0);
        Assert.Contains(entries, e => e.Function == 1);
        Assert.Contains(entries, e => e.Function == 0x4000_0000);
    }

    [KvmFact]
    public void CreatesAVmWithIrqchipPitAndAVcpu()
    {
        using var kvm = KvmSystem.Open(KvmAvailability.Device);
        using var vm = kvm.CreateVm();
        vm.SetTssAddress(0xFFFB_D000);
        vm.CreateIrqchip();
        vm.CreatePit2();
        using var vcpu = vm.CreateVcpu(0);
        var sregs = vcpu.GetSregs();
        Assert.Equal(0xF000, sregs.Cs.Selector); // reset state: real mode at F000:FFF0
        var regs = vcpu.GetRegs();
        Assert.Equal(0xFFF0ul, regs.Rip);
    }

    [KvmFact]
    public void ErrorsNameTheIoctlAndErrno()
    {
        using var kvm = KvmSystem.Open(KvmAvailability.Device);
        using var vm = kvm.CreateVm();
        // Slot with an unaligned guest address is refused with EINVAL.
        var error = Assert.Throws<KvmException>(() => vm.SetUserMemoryRegion(0, 0x123, 0x1000, 0x1000));
        Assert.Equal("KVM_SET_USER_MEMORY_REGION", error.Operation);
        Assert.Contains("errno 22", error.Message);
    }

    [Fact]
    public void OpeningAMissingDeviceSaysSo()
    {
        var error = Assert.Throws<KvmException>(() => KvmSystem.Open("/dev/nonexistent-kvm"));
        Assert.Equal(KvmException.ENOENT, error.Errno);
    }
}
