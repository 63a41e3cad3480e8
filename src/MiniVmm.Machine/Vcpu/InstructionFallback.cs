using System.Numerics;
using Iced.Intel;
using MiniVmm.Kvm;

namespace MiniVmm.Machine.Vcpu;

/// <summary>
/// Completes, in the VMM, instructions this host's KVM reports as emulation failures
/// (KVM_EXIT_INTERNAL_ERROR, suberror 1): software "PVM" KVM cannot emulate int3 at CPL0, fwait,
/// popcnt, clac/stac or lock cmpxchg16b (host-kvm.md), which QEMU turns into a dead guest.
/// Only instructions whose full effect we can reproduce exactly are handled; anything else is
/// left to the caller's diagnosis.
/// </summary>
public sealed class InstructionFallback
{
    private const ulong RflagsCf = 1 << 0, RflagsPf = 1 << 2, RflagsAf = 1 << 4, RflagsZf = 1 << 6;
    private const ulong RflagsSf = 1 << 7, RflagsOf = 1 << 11, RflagsAc = 1 << 18;
    private const byte VectorBreakpoint = 3, VectorMathFault = 16, VectorGeneralProtection = 13;
    private const ushort FswErrorSummary = 1 << 7;

    // lock cmpxchg16b from several vCPUs must not interleave: guest memory is host memory, but the
    // compare and the store are two steps here. Guards nothing else.
    private static readonly Lock CompareExchangeLock = new();

    private readonly Dictionary<Mnemonic, int> _counts = [];

    /// <summary>How many times each instruction was completed by the VMM (for the exit summary).</summary>
    public IReadOnlyDictionary<Mnemonic, int> Counts => _counts;

    /// <summary>Tries to complete the instruction; on success the vCPU state is updated and it can resume.</summary>
    public bool TryComplete(KvmVcpu vcpu, GuestVirtualMemory memory, DecodedInstruction decoded)
    {
        var instruction = decoded.Instruction;
        var regs = vcpu.GetRegs();
        var sregs = vcpu.GetSregs();
        bool done = instruction.Code switch
        {
            Code.Int3 => InjectException(vcpu, ref regs, instruction, VectorBreakpoint),
            Code.Wait => CompleteFwait(vcpu, ref regs, instruction),
            Code.Clac => SetFlag(ref regs, instruction, RflagsAc, set: false),
            Code.Stac => SetFlag(ref regs, instruction, RflagsAc, set: true),
            Code.Popcnt_r16_rm16 or Code.Popcnt_r32_rm32 or Code.Popcnt_r64_rm64 =>
                CompletePopcnt(memory, ref regs, in sregs, instruction),
            Code.Cmpxchg16b_m128 => CompleteCmpxchg16b(vcpu, memory, ref regs, in sregs, instruction),
            _ => false,
        };
        if (!done)
            return false;
        vcpu.SetRegs(in regs);
        _counts[instruction.Mnemonic] = _counts.GetValueOrDefault(instruction.Mnemonic) + 1;
        return true;
    }

    private static void Advance(ref KvmRegs regs, in Instruction instruction) => regs.Rip = instruction.NextIP;

    /// <summary>int3 is a trap: the handler sees RIP after the instruction, so advance first, then inject.</summary>
    private static bool InjectException(KvmVcpu vcpu, ref KvmRegs regs, in Instruction instruction, byte vector)
    {
        Advance(ref regs, instruction);
        vcpu.SetRegs(in regs);
        Inject(vcpu, vector);
        return true;
    }

    /// <summary>Injects an exception (RIP is left as it is: the caller decides fault or trap).</summary>
    internal static void Inject(KvmVcpu vcpu, byte vector, uint? errorCode = null)
    {
        var events = vcpu.GetVcpuEvents();
        events.ExceptionInjected = 1;
        events.ExceptionNumber = vector;
        events.ExceptionHasErrorCode = errorCode.HasValue ? (byte)1 : (byte)0;
        events.ExceptionErrorCode = errorCode ?? 0;
        events.ExceptionPending = 0;
        vcpu.SetVcpuEvents(in events);
    }

    /// <summary>fwait only matters when an unmasked x87 exception is pending; then it raises #MF.</summary>
    private static bool CompleteFwait(KvmVcpu vcpu, ref KvmRegs regs, in Instruction instruction)
    {
        var fpu = vcpu.GetFpu();
        if ((fpu.Fsw & FswErrorSummary) != 0)
        {
            Inject(vcpu, VectorMathFault);
            return true; // RIP stays on the fwait: #MF is a fault
        }
        Advance(ref regs, instruction);
        return true;
    }

    private static bool SetFlag(ref KvmRegs regs, in Instruction instruction, ulong flag, bool set)
    {
        regs.Rflags = set ? regs.Rflags | flag : regs.Rflags & ~flag;
        Advance(ref regs, instruction);
        return true;
    }

    private static bool CompletePopcnt(GuestVirtualMemory memory, ref KvmRegs regs, in KvmSregs sregs, in Instruction instruction)
    {
        int size = instruction.Op0Register.GetSize();
        ulong source;
        if (instruction.Op1Kind == OpKind.Register)
        {
            source = RegisterFile.Read(in regs, in sregs, instruction.Op1Register);
        }
        else
        {
            if (!TryOperandAddress(in regs, in sregs, instruction, out ulong address))
                return false;
            Span<byte> bytes = stackalloc byte[8];
            bytes.Clear();
            if (memory.Read(address, bytes[..size]) != size)
                return false; // unmapped operand: leave it to the diagnosis rather than guess a #PF
            source = BitConverter.ToUInt64(bytes);
        }
        ulong count = (ulong)BitOperations.PopCount(source);
        RegisterFile.Write(ref regs, instruction.Op0Register, count);
        regs.Rflags &= ~(RflagsCf | RflagsPf | RflagsAf | RflagsZf | RflagsSf | RflagsOf);
        if (source == 0)
            regs.Rflags |= RflagsZf;
        Advance(ref regs, instruction);
        return true;
    }

    private static bool CompleteCmpxchg16b(KvmVcpu vcpu, GuestVirtualMemory memory, ref KvmRegs regs, in KvmSregs sregs, in Instruction instruction)
    {
        if (!TryOperandAddress(in regs, in sregs, instruction, out ulong address))
            return false;
        if (address % 16 != 0)
        {
            Inject(vcpu, VectorGeneralProtection, 0);
            return true;
        }
        Span<byte> current = stackalloc byte[16];
        lock (CompareExchangeLock)
        {
            if (memory.Read(address, current) != 16)
                return false;
            ulong low = BitConverter.ToUInt64(current), high = BitConverter.ToUInt64(current[8..]);
            if (low == regs.Rax && high == regs.Rdx)
            {
                Span<byte> replacement = stackalloc byte[16];
                BitConverter.TryWriteBytes(replacement, regs.Rbx);
                BitConverter.TryWriteBytes(replacement[8..], regs.Rcx);
                if (!memory.TryWrite(address, replacement))
                    return false;
                regs.Rflags |= RflagsZf;
            }
            else
            {
                regs.Rax = low;
                regs.Rdx = high;
                regs.Rflags &= ~RflagsZf;
            }
        }
        Advance(ref regs, instruction);
        return true;
    }

    private static bool TryOperandAddress(in KvmRegs regs, in KvmSregs sregs, in Instruction instruction, out ulong address)
    {
        var regsCopy = regs;
        var sregsCopy = sregs;
        int memoryOperand = -1;
        for (int i = 0; i < instruction.OpCount; i++)
        {
            if (instruction.GetOpKind(i) == OpKind.Memory)
                memoryOperand = i;
        }
        address = 0;
        return memoryOperand >= 0 && instruction.TryGetVirtualAddress(memoryOperand, 0, out address,
            (Register register, int _, int _, out ulong value) =>
            {
                value = RegisterFile.Read(in regsCopy, in sregsCopy, register);
                return true;
            });
    }
}
