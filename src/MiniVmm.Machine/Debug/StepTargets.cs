using Iced.Intel;
using MiniVmm.Kvm;
using MiniVmm.Machine.Vcpu;

namespace MiniVmm.Machine.Debug;

/// <summary>
/// Where execution can go after one instruction, for single-stepping with temporary breakpoints on a host
/// that refuses KVM_SET_GUEST_DEBUG (kvm_pvm accepts it and single-steps; this was its step method until
/// that was measured, and a gdb session on the small kernel stepped with it). Straight-line code continues at the next instruction; a
/// conditional branch at either the next instruction or its target; direct jumps and calls at the target;
/// indirect ones at the register or memory value; near returns and iretq at the address on the stack.
/// Limits, said plainly: far transfers, syscall/sysret and software interrupts are treated as falling
/// through, and an interrupt taken during the step stops at the first target only after the handler returns.
/// </summary>
public static class StepTargets
{
    /// <param name="readQword">Reads 8 bytes at a guest-virtual address; null when unmapped.</param>
    public static IReadOnlyList<ulong> Of(in Instruction instruction, in KvmRegs regs, in KvmSregs sregs, Func<ulong, ulong?> readQword)
    {
        ulong next = instruction.NextIP;
        switch (instruction.FlowControl)
        {
            case FlowControl.ConditionalBranch:
                return IsNearBranch(instruction) ? [next, instruction.NearBranchTarget] : [next];
            case FlowControl.UnconditionalBranch:
            case FlowControl.Call:
                return IsNearBranch(instruction) ? [instruction.NearBranchTarget] : [next];
            case FlowControl.IndirectBranch:
            case FlowControl.IndirectCall:
                return IndirectTarget(instruction, regs, sregs, readQword) is { } target ? [target] : [next];
            case FlowControl.Return when instruction.Mnemonic is Mnemonic.Ret or Mnemonic.Iretq:
                return readQword(regs.Rsp) is { } returnAddress ? [returnAddress] : [next];
            default:
                return [next];
        }
    }

    private static bool IsNearBranch(in Instruction instruction) =>
        instruction.Op0Kind is OpKind.NearBranch64 or OpKind.NearBranch32 or OpKind.NearBranch16;

    private static ulong? IndirectTarget(in Instruction instruction, KvmRegs regs, KvmSregs sregs, Func<ulong, ulong?> readQword)
    {
        if (instruction.Op0Kind == OpKind.Register)
            return RegisterFile.Read(in regs, in sregs, instruction.Op0Register);
        if (instruction.Op0Kind != OpKind.Memory || instruction.MemorySize is not (MemorySize.QwordOffset or MemorySize.UInt64))
            return null; // far pointers (m16:64) and narrower operands: not followed
        bool resolved = instruction.TryGetVirtualAddress(0, 0, out ulong address, (Register register, int _, int _, out ulong value) =>
        {
            value = RegisterFile.Read(in regs, in sregs, register);
            return true;
        });
        return resolved ? readQword(address) : null;
    }
}
