using MiniVmm.Firmware;
using MiniVmm.Kvm;

namespace MiniVmm.Integration.Tests;

/// <summary>Tiny guest programs on the real /dev/kvm: each proves one KVM path of the machine.</summary>
public sealed class PayloadTests
{
    [KvmFact]
    public void SerialOutputReachesTheConsoleAndTheDebugExitCodeEndsTheVm()
    {
        var result = PayloadRunner.Run(Payloads.SerialHello("hello from the guest\n", exitCode: 7));
        Assert.Equal("hello from the guest\n", result.Console);
        Assert.Equal(7, result.Reason.ExitCode);
        Assert.Contains("debug-exit", result.Reason.Description);
    }

    [KvmFact]
    public void PortExitsRoundTrip()
    {
        var result = PayloadRunner.Run(Payloads.PioExits(2000));
        Assert.Equal(0, result.Reason.ExitCode);
    }

    [KvmFact]
    public void UnclaimedMmioReadsAllOnesAndDropsWrites()
    {
        var result = PayloadRunner.Run(Payloads.UnclaimedMmio());
        Assert.True(result.Reason.ExitCode == 0, result.Console + result.Reason.Description);
        Assert.Contains("MMIO OK", result.Console);
    }

    [KvmFact]
    public void Int3AtCpl0ReachesTheGuestsBreakpointHandler()
    {
        var result = PayloadRunner.Run(Payloads.Breakpoint());
        Assert.True(result.Reason.ExitCode == 0, result.Console + result.Reason.Description);
        Assert.Contains("BREAKPOINT OK", result.Console);
        if (KvmSystem.IsPvmHost)
            Assert.Contains("completed 'int3'", result.Trace); // this KVM fails int3; MiniVmm injected the #BP
    }

    [KvmFact]
    public void FwaitWithNoPendingX87ExceptionContinues()
    {
        var result = PayloadRunner.Run(Payloads.Fwait());
        Assert.True(result.Reason.ExitCode == 0, result.Console + result.Reason.Description);
    }

    [KvmFact]
    public void PopcntGivesTheRightCountsAndFlags()
    {
        var result = PayloadRunner.Run(Payloads.Popcnt());
        Assert.True(result.Reason.ExitCode == 0, result.Console + result.Reason.Description);
    }

    [KvmFact]
    public void LockCmpxchg16bComparesAndExchanges()
    {
        var result = PayloadRunner.Run(Payloads.Cmpxchg16b());
        Assert.True(result.Reason.ExitCode == 0, result.Console + result.Reason.Description);
    }

    [KvmFact]
    public void ClacAndStacToggleAlignmentCheck()
    {
        var result = PayloadRunner.Run(SmpPayloads.ClacStac());
        Assert.True(result.Reason.ExitCode == 0, result.Console + result.Reason.Description);
    }

    [KvmFact]
    public void TheBspStartsASecondVcpuWithInitSipiSipi()
    {
        var result = PayloadRunner.Run(SmpPayloads.StartSecondCpu(), cpus: 2);
        Assert.True(result.Reason.ExitCode == 0, result.Console + result.Reason.Description);
        Assert.Contains("AP up", result.Console);
        Assert.Contains("BSP saw AP", result.Console);
    }
}
