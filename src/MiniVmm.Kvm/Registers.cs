using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MiniVmm.Kvm;

// Layouts follow <linux/kvm.h> (x86-64); sizes are asserted in tests/MiniVmm.Kvm.Tests.

/// <summary>struct kvm_regs (144 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmRegs
{
    public ulong Rax, Rbx, Rcx, Rdx, Rsi, Rdi, Rsp, Rbp;
    public ulong R8, R9, R10, R11, R12, R13, R14, R15;
    public ulong Rip, Rflags;
}

/// <summary>struct kvm_segment (24 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmSegment
{
    public ulong Base;
    public uint Limit;
    public ushort Selector;
    public byte Type, Present, Dpl, Db, S, L, G, Avl, Unusable, Padding;
}

/// <summary>struct kvm_dtable (16 bytes): GDTR / IDTR.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmDtable
{
    public ulong Base;
    public ushort Limit;
    public ushort Padding0, Padding1, Padding2;
}

/// <summary>struct kvm_sregs (312 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmSregs
{
    public KvmSegment Cs, Ds, Es, Fs, Gs, Ss, Tr, Ldt;
    public KvmDtable Gdt, Idt;
    public ulong Cr0, Cr2, Cr3, Cr4, Cr8, Efer, ApicBase;
    public InterruptBitmap InterruptBitmap;
}

[InlineArray(4)]
public struct InterruptBitmap
{
    private ulong _element0;
}

/// <summary>struct kvm_fpu (416 bytes). MXCSR set here is ignored by KVM_SET_FPU on some hosts: use XSAVE for it.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmFpu
{
    public FpuRegisters Fpr;
    public ushort Fcw, Fsw;
    public byte Ftwx, Padding1;
    public ushort LastOpcode;
    public ulong LastIp, LastDp;
    public XmmRegisters Xmm;
    public uint Mxcsr, Padding2;
}

[InlineArray(128)]
public struct FpuRegisters
{
    private byte _element0;
}

[InlineArray(256)]
public struct XmmRegisters
{
    private byte _element0;
}

/// <summary>struct kvm_xsave (4096 bytes): the legacy XSAVE area.</summary>
[InlineArray(1024)]
public struct KvmXsave
{
    private uint _element0;
}

/// <summary>struct kvm_lapic_state (1024 bytes): the local APIC register page.</summary>
[InlineArray(1024)]
public struct KvmLapicState
{
    private byte _element0;
}

/// <summary>struct kvm_msr_entry (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmMsrEntry
{
    public uint Index, Reserved;
    public ulong Data;

    public KvmMsrEntry(uint index, ulong data)
    {
        Index = index;
        Reserved = 0;
        Data = data;
    }
}

/// <summary>struct kvm_cpuid_entry2 (40 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmCpuidEntry2
{
    public uint Function, Index, Flags, Eax, Ebx, Ecx, Edx;
    public uint Padding0, Padding1, Padding2;

    /// <summary>KVM_CPUID_FLAG_SIGNIFCANT_INDEX: the entry applies only to this sub-leaf.</summary>
    public const uint FlagSignificantIndex = 1;
}

/// <summary>struct kvm_vcpu_events (64 bytes): pending/injected exceptions, interrupts, NMIs.</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
public struct KvmVcpuEvents
{
    [FieldOffset(0)] public byte ExceptionInjected;
    [FieldOffset(1)] public byte ExceptionNumber;
    [FieldOffset(2)] public byte ExceptionHasErrorCode;
    [FieldOffset(3)] public byte ExceptionPending;
    [FieldOffset(4)] public uint ExceptionErrorCode;
    [FieldOffset(8)] public byte InterruptInjected;
    [FieldOffset(9)] public byte InterruptNumber;
    [FieldOffset(10)] public byte InterruptSoft;
    [FieldOffset(11)] public byte InterruptShadow;
    [FieldOffset(12)] public byte NmiInjected;
    [FieldOffset(13)] public byte NmiPending;
    [FieldOffset(14)] public byte NmiMasked;
    [FieldOffset(16)] public uint SipiVector;
    [FieldOffset(20)] public uint Flags;
    [FieldOffset(55)] public byte ExceptionHasPayload;
    [FieldOffset(56)] public ulong ExceptionPayload;
}

/// <summary>struct kvm_translation (24 bytes): guest-virtual to guest-physical through the vCPU's page tables.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmTranslation
{
    public ulong LinearAddress;
    public ulong PhysicalAddress;
    public byte Valid, Writeable, Usermode;
    public byte Padding0, Padding1, Padding2, Padding3, Padding4;
}

/// <summary>KVM_GUESTDBG_* bits of kvm_guest_debug.control.</summary>
[Flags]
public enum KvmGuestDebugFlags : uint
{
    None = 0,
    Enable = 0x1,
    SingleStep = 0x2,
    /// <summary>Guest #BP exits to the VMM as KVM_EXIT_DEBUG instead of reaching the guest's handler.</summary>
    UseSoftwareBreakpoints = 0x1_0000,
    /// <summary>No interrupt is injected while single-stepping (Linux 5.16+), so a step does not land in the timer handler.</summary>
    BlockInterrupts = 0x10_0000,
}

/// <summary>struct kvm_guest_debug (72 bytes): control flags, then the x86 debug registers (unused here: no hardware breakpoints).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmGuestDebug
{
    public KvmGuestDebugFlags Control;
    public uint Padding;
    public DebugRegisters DebugRegisters;
}

[InlineArray(8)]
public struct DebugRegisters
{
    private ulong _element0;
}
