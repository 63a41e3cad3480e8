using Iced.Intel;
using MiniVmm.Kvm;

namespace MiniVmm.Machine.Vcpu;

/// <summary>Reads and writes Iced-named general registers in a <see cref="KvmRegs"/> with x86 sub-register rules.</summary>
internal static class RegisterFile
{
    public static ulong Read(in KvmRegs regs, in KvmSregs sregs, Register register)
    {
        switch (register)
        {
            case Register.ES: return sregs.Es.Base;
            case Register.CS: return sregs.Cs.Base;
            case Register.SS: return sregs.Ss.Base;
            case Register.DS: return sregs.Ds.Base;
            case Register.FS: return sregs.Fs.Base;
            case Register.GS: return sregs.Gs.Base;
            case Register.RIP or Register.EIP: return regs.Rip;
        }
        ulong full = Full(in regs, register.GetFullRegister());
        return register.GetSize() switch
        {
            1 when register is Register.AH or Register.CH or Register.DH or Register.BH => (full >> 8) & 0xFF,
            1 => full & 0xFF,
            2 => full & 0xFFFF,
            4 => full & 0xFFFF_FFFF,
            _ => full,
        };
    }

    /// <summary>Writes a 16/32/64-bit destination: 32-bit writes zero-extend, 16-bit writes keep the upper bits.</summary>
    public static void Write(ref KvmRegs regs, Register register, ulong value)
    {
        ref ulong slot = ref FullSlot(ref regs, register.GetFullRegister());
        slot = register.GetSize() switch
        {
            2 => (slot & ~0xFFFFul) | (value & 0xFFFF),
            4 => value & 0xFFFF_FFFF,
            8 => value,
            _ => throw new ArgumentException($"unsupported destination register {register}"),
        };
    }

    private static ulong Full(in KvmRegs regs, Register full)
    {
        var copy = regs;
        return FullSlot(ref copy, full);
    }

    private static ref ulong FullSlot(ref KvmRegs regs, Register full)
    {
        switch (full)
        {
            case Register.RAX: return ref regs.Rax;
            case Register.RBX: return ref regs.Rbx;
            case Register.RCX: return ref regs.Rcx;
            case Register.RDX: return ref regs.Rdx;
            case Register.RSI: return ref regs.Rsi;
            case Register.RDI: return ref regs.Rdi;
            case Register.RSP: return ref regs.Rsp;
            case Register.RBP: return ref regs.Rbp;
            case Register.R8: return ref regs.R8;
            case Register.R9: return ref regs.R9;
            case Register.R10: return ref regs.R10;
            case Register.R11: return ref regs.R11;
            case Register.R12: return ref regs.R12;
            case Register.R13: return ref regs.R13;
            case Register.R14: return ref regs.R14;
            case Register.R15: return ref regs.R15;
            default: throw new ArgumentException($"not a general register: {full}");
        }
    }
}
