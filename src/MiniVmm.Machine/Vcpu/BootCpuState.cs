using MiniVmm.Boot;
using MiniVmm.Kvm;

namespace MiniVmm.Machine.Vcpu;

/// <summary>
/// The register state for a 64-bit direct boot (Linux boot protocol "64-bit entry"): long mode with
/// identity-mapped page tables, flat segments from the boot GDT, RSI pointing at the zero page.
/// The loader decides every value; this only moves them into KVM's structs.
/// </summary>
public static class BootCpuState
{
    /// <summary>Applies the boot state to the bootstrap processor.</summary>
    public static void Apply(KvmVcpu vcpu, BootInfo boot)
    {
        var sregs = vcpu.GetSregs();
        sregs.Cs = ToKvm(boot.Code);
        sregs.Ds = sregs.Es = sregs.Fs = sregs.Gs = sregs.Ss = ToKvm(boot.Data);
        sregs.Tr = ToKvm(boot.Tss);
        sregs.Gdt = new KvmDtable { Base = boot.Gdt.Base, Limit = boot.Gdt.Limit };
        sregs.Idt = new KvmDtable { Base = boot.Idt.Base, Limit = boot.Idt.Limit };
        // CR0 is set outright: ORing into the reset value would keep CD|NW (caches off).
        sregs.Cr0 = boot.Cr0;
        sregs.Cr3 = boot.PageTableRoot;
        sregs.Cr4 = boot.Cr4;
        sregs.Efer = boot.Efer;
        vcpu.SetSregs(in sregs);

        vcpu.SetRegs(new KvmRegs
        {
            Rflags = boot.Rflags,
            Rip = boot.Entry,
            Rsp = boot.StackPointer,
            Rbp = boot.StackPointer,
            Rsi = boot.ZeroPage,
        });
    }

    private static KvmSegment ToKvm(SegmentInfo segment) => new()
    {
        Base = segment.Base,
        Limit = segment.Limit,
        Selector = segment.Selector,
        Type = segment.Type,
        Present = segment.Present ? (byte)1 : (byte)0,
        Dpl = segment.Dpl,
        Db = segment.Db ? (byte)1 : (byte)0,
        S = segment.S ? (byte)1 : (byte)0,
        L = segment.L ? (byte)1 : (byte)0,
        G = segment.G ? (byte)1 : (byte)0,
    };

    /// <summary>State every vCPU needs before its first KVM_RUN: MSRs, FPU control words, LAPIC LINT pins.</summary>
    public static void ApplyCommon(KvmVcpu vcpu)
    {
        vcpu.SetMsrs(
        [
            new(0x174, 0), new(0x175, 0), new(0x176, 0),           // SYSENTER_CS/ESP/EIP
            new(0xC000_0081, 0), new(0xC000_0082, 0), new(0xC000_0083, 0), new(0xC000_0084, 0), // STAR, LSTAR, CSTAR, SFMASK
            new(0xC000_0102, 0),                                    // KERNEL_GS_BASE
            new(0x10, 0),                                           // TSC
            new(0x1A0, 1),                                          // MISC_ENABLE: fast strings
        ]);
        var fpu = new KvmFpu { Fcw = 0x37F, Mxcsr = 0x1F80 };
        vcpu.SetFpu(in fpu);

        // Virtual-wire mode: LINT0 delivers the 8259's ExtINT, LINT1 delivers NMI.
        var lapic = vcpu.GetLapic();
        SetDeliveryMode(ref lapic, 0x350, 7);
        SetDeliveryMode(ref lapic, 0x360, 4);
        vcpu.SetLapic(in lapic);
    }

    private static void SetDeliveryMode(ref KvmLapicState lapic, int offset, uint mode)
    {
        Span<byte> registers = lapic;
        uint value = BitConverter.ToUInt32(registers.Slice(offset, 4));
        value = (value & ~0x700u) | (mode << 8);
        BitConverter.TryWriteBytes(registers.Slice(offset, 4), value);
    }
}
