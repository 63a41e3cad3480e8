using Iced.Intel;
using MiniVmm.Kvm;
using MiniVmm.Machine.Debug;

namespace MiniVmm.Machine.Tests.Debug;

public sealed class StepTargetsTests
{
    private const ulong Rip = 0xFFFF_FFFF_8100_0000;

    private static IReadOnlyList<ulong> Targets(byte[] code, KvmRegs regs = default, Dictionary<ulong, ulong>? memory = null)
    {
        regs.Rip = Rip;
        var decoder = Decoder.Create(64, new ByteArrayCodeReader(code), Rip);
        decoder.Decode(out var instruction);
        return StepTargets.Of(in instruction, in regs, new KvmSregs(), at => memory is not null && memory.TryGetValue(at, out ulong value) ? value : null);
    }

    [Fact]
    public void StraightLineCodeContinuesAtTheNextInstruction() =>
        Assert.Equal([Rip + 3], Targets([0x48, 0x89, 0xC3])); // mov rbx, rax

    [Fact]
    public void AConditionalBranchCanFallThroughOrJump() =>
        Assert.Equal([Rip + 2, Rip + 2 + 0x10], Targets([0x74, 0x10])); // jz +0x10

    [Fact]
    public void ADirectCallGoesToItsTarget() =>
        Assert.Equal([Rip + 5 + 0x100], Targets([0xE8, 0x00, 0x01, 0x00, 0x00])); // call +0x100

    [Fact]
    public void IndirectJumpsAndCallsFollowTheRegisterOrTheMemoryOperand()
    {
        Assert.Equal([0x1234UL], Targets([0xFF, 0xE0], new KvmRegs { Rax = 0x1234 })); // jmp rax
        var memory = new Dictionary<ulong, ulong> { [0x5000] = 0xFFFF_FFFF_8120_0000 };
        Assert.Equal([0xFFFF_FFFF_8120_0000UL], Targets([0xFF, 0x13], new KvmRegs { Rbx = 0x5000 }, memory)); // call [rbx]
    }

    [Fact]
    public void AReturnGoesToTheAddressOnTheStackOrFallsThroughWhenItIsUnmapped()
    {
        var memory = new Dictionary<ulong, ulong> { [0x8000] = 0xFFFF_FFFF_8189_C71UL };
        Assert.Equal([0xFFFF_FFFF_8189_C71UL], Targets([0xC3], new KvmRegs { Rsp = 0x8000 }, memory));
        Assert.Equal([Rip + 1], Targets([0xC3], new KvmRegs { Rsp = 0x9000 }, memory));
    }
}
