using System.Text;
using MiniVmm.Kvm;

namespace MiniVmm.Machine.Vcpu;

/// <summary>
/// Explains an exit the VMM could not handle: what KVM reported, the registers, the instruction at
/// RIP (decoded with Iced), and, where we know one, what to do about it.
/// </summary>
public static class ExitDiagnosis
{
    public static string Describe(int vcpuId, string what, in KvmRegs regs, in KvmSregs sregs, DecodedInstruction? instruction)
    {
        var text = new StringBuilder();
        text.Append("vCPU ").Append(vcpuId).Append(": ").AppendLine(what);
        if (instruction is null)
        {
            text.AppendLine($"  instruction at RIP 0x{regs.Rip:x16}: <page not mapped>");
        }
        else
        {
            text.Append($"  instruction at RIP 0x{regs.Rip:x16} ({instruction.Bitness}-bit): ")
                .Append(instruction.Instruction.IsInvalid ? "(invalid encoding)" : instruction.Text)
                .Append("   [").Append(instruction.HexBytes).AppendLine("]");
            var hint = HintFor(instruction);
            if (hint is not null)
                text.Append("  hint: ").AppendLine(hint);
        }
        AppendRegisters(text, in regs, in sregs);
        return text.ToString();
    }

    public static void AppendRegisters(StringBuilder text, in KvmRegs r, in KvmSregs s)
    {
        text.AppendLine($"  rax {r.Rax:x16}  rbx {r.Rbx:x16}  rcx {r.Rcx:x16}  rdx {r.Rdx:x16}");
        text.AppendLine($"  rsi {r.Rsi:x16}  rdi {r.Rdi:x16}  rsp {r.Rsp:x16}  rbp {r.Rbp:x16}");
        text.AppendLine($"  r8  {r.R8:x16}  r9  {r.R9:x16}  r10 {r.R10:x16}  r11 {r.R11:x16}");
        text.AppendLine($"  r12 {r.R12:x16}  r13 {r.R13:x16}  r14 {r.R14:x16}  r15 {r.R15:x16}");
        text.AppendLine($"  rip {r.Rip:x16}  rflags {r.Rflags:x8}  cpl {s.Cs.Selector & 3}");
        text.AppendLine($"  cr0 {s.Cr0:x8}  cr2 {s.Cr2:x16}  cr3 {s.Cr3:x16}  cr4 {s.Cr4:x8}  efer {s.Efer:x}");
        text.AppendLine($"  cs {s.Cs.Selector:x4} (base {s.Cs.Base:x}, l={s.Cs.L} db={s.Cs.Db})  ss {s.Ss.Selector:x4}  ds {s.Ds.Selector:x4}  " +
                        $"gdt {s.Gdt.Base:x}/{s.Gdt.Limit:x}  idt {s.Idt.Base:x}/{s.Idt.Limit:x}");
    }

    /// <summary>What gets a guest past instructions this host's KVM cannot emulate (see docs/host-kvm notes).</summary>
    public static string? HintFor(DecodedInstruction instruction)
    {
        string mnemonic = instruction.Instruction.Mnemonic.ToString().ToLowerInvariant();
        return mnemonic switch
        {
            "xrstor" or "xrstor64" or "xsave" or "xsave64" or "xsaveopt" or "xsaveopt64" or "xrstors" or "xsaves" or "xgetbv" =>
                "this KVM cannot emulate XSAVE-family instructions: boot the guest with 'noxsave' (MiniVmm adds it on kvm_pvm hosts unless --no-host-compat)",
            "ldmxcsr" or "stmxcsr" or "movd" or "movq" or "pshufb" or "movdqa" or "movdqu" or "pxor" or "movaps" or "movups" =>
                "this KVM cannot emulate SSE instructions in the guest kernel: add clearcpuid=ssse3,sse4_1,sse4_2 (and avx) to --append",
            "rdtscp" => "add clearcpuid=rdtscp to --append",
            "rdpid" => "add clearcpuid=rdpid to --append",
            "rdrand" or "rdseed" => "add clearcpuid=rdrand,rdseed to --append",
            _ => null,
        };
    }
}
