using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace MiniVmm.Firmware;

/// <summary>
/// A guest-side virtio-pci driver in a few hundred instructions, for the PCI integration test. It does
/// what Linux's virtio_pci_modern does, minus everything optional: scan bus 0 through conf1, find the
/// device, walk its capabilities, size and enable BAR 0, negotiate VERSION_1, program MSI-X vector 0
/// (APIC 0, <see cref="Vector"/>), set up queue 0, DRIVER_OK, post one request/response chain, notify,
/// and wait until the interrupt handler ran and the used ring holds the echoed bytes.
/// Exit codes: 0 = all passed; otherwise the failing step (see the Fail* constants).
/// </summary>
public static class PciPayloads
{
    /// <summary>The test device's virtio type: 63 is unassigned, so it can be nothing real.</summary>
    public const uint EchoDeviceType = 63;
    public const uint ExpectedIds = ((0x1040 + EchoDeviceType) << 16) | 0x1AF4;
    public const byte Vector = 0x40;
    public const ushort QueueSize = 4;
    public const uint RequestLength = 16;

    // Guest memory, inside the payload's zeroed data area.
    private const ulong Idt = PayloadPorts.DataAddress;
    private const ulong Idtr = PayloadPorts.DataAddress + 0x1000;
    private const ulong InterruptCount = PayloadPorts.DataAddress + 0x1010;
    private const ulong Found = PayloadPorts.DataAddress + 0x1020;        // bit 0 common, 1 notify, 2 MSI-X
    private const ulong CommonOffset = PayloadPorts.DataAddress + 0x1024;
    private const ulong NotifyOffset = PayloadPorts.DataAddress + 0x1028;
    private const ulong NotifyMultiplier = PayloadPorts.DataAddress + 0x102C;
    private const ulong MsixCapability = PayloadPorts.DataAddress + 0x1030;
    public const ulong Descriptors = PayloadPorts.DataAddress + 0x2000;
    public const ulong Available = PayloadPorts.DataAddress + 0x3000;
    public const ulong Used = PayloadPorts.DataAddress + 0x4000;
    public const ulong Request = PayloadPorts.DataAddress + 0x5000;
    public const ulong Response = PayloadPorts.DataAddress + 0x6000;

    public const byte FailNoDevice = 1, FailNoCapList = 2, FailMissingCaps = 3, FailBarSize = 4, FailNoVersion1 = 5,
        FailFeaturesRefused = 6, FailMsixBar = 7, FailNoQueue = 8, FailVectorRefused = 9, FailNeedsReset = 10,
        FailNoInterrupt = 11, FailUsedElement = 12, FailEcho = 13;

    private const ushort ConfigAddress = 0xCF8, ConfigData = 0xCFC;

    public static byte[] VirtioEcho()
    {
        var p = new PayloadBuilder();
        var a = p.Asm;
        var handler = a.CreateLabel();
        InstallGate(a, Idt, Vector, handler);
        a.mov(__word_ptr[Idtr], 256 * 16 - 1);
        a.mov(rax, Idt);
        a.mov(__qword_ptr[Idtr + 2], rax);
        a.lidt(__[Idtr]);
        a.mov(rbx, PayloadPorts.LapicBase);
        a.mov(__dword_ptr[rbx + 0xF0], 0x1FF); // spurious-vector register: software-enable the LAPIC

        FindDevice(p);
        WalkCapabilities(p);
        SizeAndEnableBar0(p);
        Negotiate(p);
        ProgramMsix(p);
        SetUpQueue(p);
        PostAndWait(p);
        p.SerialText("PCI OK\n");
        p.Exit(0);

        a.Label(ref handler);
        a.push(rax);
        a.inc(__dword_ptr[InterruptCount]);
        a.mov(rax, PayloadPorts.LapicBase + 0xB0);
        a.mov(__dword_ptr[rax], 0); // EOI
        a.pop(rax);
        a.iretq();
        return p.ToElf();
    }

    /// <summary>Bus 0, devices 0-31, function 0: the dword at register 0 is device id : vendor id. Leaves r12d = conf1 base.</summary>
    private static void FindDevice(PayloadBuilder p)
    {
        var a = p.Asm;
        var scan = a.CreateLabel();
        var found = a.CreateLabel();
        a.xor(esi, esi);
        a.Label(ref scan);
        a.mov(eax, esi);
        a.shl(eax, 11);
        a.or(eax, unchecked((int)0x8000_0000));
        a.mov(r12d, eax);
        ConfigRead(a, 0);
        a.cmp(eax, unchecked((int)ExpectedIds));
        a.je(found);
        a.inc(esi);
        a.cmp(esi, 32);
        a.jb(scan);
        p.SerialText($"FAIL {FailNoDevice}\n");
        p.Exit(FailNoDevice);
        a.Label(ref found);
    }

    /// <summary>From the pointer at 0x34: MSI-X (id 0x11) and virtio vendor caps (id 9) COMMON and NOTIFY.</summary>
    private static void WalkCapabilities(PayloadBuilder p)
    {
        var a = p.Asm;
        var hasList = a.CreateLabel();
        var walk = a.CreateLabel();
        var notMsix = a.CreateLabel();
        var notCommon = a.CreateLabel();
        var next = a.CreateLabel();
        var walked = a.CreateLabel();
        var allFound = a.CreateLabel();
        ConfigRead(a, 0x04);
        a.bt(eax, 16 + 4); // status (upper half) bit 4: capability list present
        a.jc(hasList);
        p.SerialText($"FAIL {FailNoCapList}\n");
        p.Exit(FailNoCapList);
        a.Label(ref hasList);
        ConfigRead(a, 0x34);
        a.and(eax, 0xFC);
        a.mov(ebx, eax);

        a.Label(ref walk);
        a.test(ebx, ebx);
        a.jz(walked);
        ConfigReadAt(a, 0);
        a.mov(ecx, eax);
        a.cmp(al, 0x11);
        a.jne(notMsix);
        a.mov(__dword_ptr[MsixCapability], ebx);
        a.or(__dword_ptr[Found], 4);
        a.jmp(next);
        a.Label(ref notMsix);
        a.cmp(al, 0x09);
        a.jne(next);
        a.shr(eax, 24); // cfg_type
        a.cmp(al, 1);
        a.jne(notCommon);
        ConfigReadAt(a, 8);
        a.mov(__dword_ptr[CommonOffset], eax);
        a.or(__dword_ptr[Found], 1);
        a.jmp(next);
        a.Label(ref notCommon);
        a.cmp(al, 2);
        a.jne(next);
        ConfigReadAt(a, 8);
        a.mov(__dword_ptr[NotifyOffset], eax);
        ConfigReadAt(a, 16);
        a.mov(__dword_ptr[NotifyMultiplier], eax);
        a.or(__dword_ptr[Found], 2);
        a.Label(ref next);
        a.mov(eax, ecx);
        a.shr(eax, 8);
        a.and(eax, 0xFC);
        a.mov(ebx, eax);
        a.jmp(walk);

        a.Label(ref walked);
        a.cmp(__dword_ptr[Found], 7);
        p.FailUnless(onZeroFlag: true, FailMissingCaps, allFound);
        a.Label(ref allFound);
    }

    /// <summary>Write all ones, read the size mask, restore; then memory decoding + bus master. Leaves r13 = BAR 0 base.</summary>
    private static void SizeAndEnableBar0(PayloadBuilder p)
    {
        var a = p.Asm;
        var sized = a.CreateLabel();
        ConfigRead(a, 0x10);
        a.mov(r13d, eax);
        ConfigWrite(a, 0x10, -1);
        ConfigRead(a, 0x10);
        a.and(eax, unchecked((int)0xFFFF_FFF0));
        a.neg(eax); // ~(mask) + 1 = the size
        a.mov(edi, eax);
        ConfigWrite(a, 0x10, r13d);
        a.and(r13d, unchecked((int)0xFFFF_FFF0));
        a.cmp(edi, 0x1000);
        a.jae(sized);
        p.SerialText($"FAIL {FailBarSize}\n");
        p.Exit(FailBarSize);
        a.Label(ref sized);
        ConfigWrite(a, 0x04, 0x6); // command: memory space + bus master (status half written 0: no bits cleared)
        a.mov(r14, r13);
        a.mov(eax, __dword_ptr[CommonOffset]);
        a.add(r14, rax); // r14 = common config
    }

    /// <summary>Reset, ACKNOWLEDGE, DRIVER, check VERSION_1 is offered, accept only it, FEATURES_OK.</summary>
    private static void Negotiate(PayloadBuilder p)
    {
        var a = p.Asm;
        var hasVersion1 = a.CreateLabel();
        var accepted = a.CreateLabel();
        a.mov(__byte_ptr[r14 + 20], 0);
        a.mov(__byte_ptr[r14 + 20], 1);
        a.mov(__byte_ptr[r14 + 20], 3);
        a.mov(__dword_ptr[r14 + 0], 1);   // device_feature_select = 1
        a.test(__dword_ptr[r14 + 4], 1);  // bit 32: VIRTIO_F_VERSION_1
        p.FailUnless(onZeroFlag: false, FailNoVersion1, hasVersion1);
        a.Label(ref hasVersion1);
        a.mov(__dword_ptr[r14 + 8], 1);   // driver_feature_select = 1
        a.mov(__dword_ptr[r14 + 12], 1);
        a.mov(__dword_ptr[r14 + 8], 0);
        a.mov(__dword_ptr[r14 + 12], 0);
        a.mov(__byte_ptr[r14 + 20], 0x0B);
        a.test(__byte_ptr[r14 + 20], 0x08);
        p.FailUnless(onZeroFlag: false, FailFeaturesRefused, accepted);
        a.Label(ref accepted);
    }

    /// <summary>Entry 0 → APIC 0, vector <see cref="Vector"/>, unmasked; MSI-X enable in message control.</summary>
    private static void ProgramMsix(PayloadBuilder p)
    {
        var a = p.Asm;
        var inBar0 = a.CreateLabel();
        a.mov(ebx, __dword_ptr[MsixCapability]);
        ConfigReadAt(a, 4); // table offset / BIR
        a.test(eax, 7);
        p.FailUnless(onZeroFlag: true, FailMsixBar, inBar0);
        a.Label(ref inBar0);
        a.lea(rdi, __[r13 + rax]);
        a.mov(__dword_ptr[rdi + 0], unchecked((int)PayloadPorts.LapicBase)); // destination APIC id 0
        a.mov(__dword_ptr[rdi + 4], 0);
        a.mov(__dword_ptr[rdi + 8], Vector);                                 // fixed, edge
        a.mov(__dword_ptr[rdi + 12], 0);                                     // unmask
        a.mov(eax, ebx);
        a.or(eax, r12d);
        a.mov(dx, ConfigAddress);
        a.@out(dx, eax);
        a.mov(ax, unchecked((short)0x8000)); // message control (cap + 2): MSI-X enable
        a.mov(dx, ConfigData + 2);
        a.@out(dx, ax);
        a.mov(__word_ptr[r14 + 16], unchecked((short)0xFFFF)); // msix_config = NO_VECTOR
    }

    /// <summary>Queue 0: size, ring addresses, vector 0, notify address into r15, enable, DRIVER_OK.</summary>
    private static void SetUpQueue(PayloadBuilder p)
    {
        var a = p.Asm;
        var exists = a.CreateLabel();
        var vectorOk = a.CreateLabel();
        var running = a.CreateLabel();
        a.mov(__word_ptr[r14 + 22], 0);
        a.cmp(__word_ptr[r14 + 24], 0);
        p.FailUnless(onZeroFlag: false, FailNoQueue, exists);
        a.Label(ref exists);
        a.mov(__word_ptr[r14 + 24], QueueSize);
        a.mov(__dword_ptr[r14 + 32], (int)Descriptors);
        a.mov(__dword_ptr[r14 + 36], 0);
        a.mov(__dword_ptr[r14 + 40], (int)Available);
        a.mov(__dword_ptr[r14 + 44], 0);
        a.mov(__dword_ptr[r14 + 48], (int)Used);
        a.mov(__dword_ptr[r14 + 52], 0);
        a.mov(__word_ptr[r14 + 26], 0);
        a.cmp(__word_ptr[r14 + 26], 0);
        p.FailUnless(onZeroFlag: true, FailVectorRefused, vectorOk);
        a.Label(ref vectorOk);
        a.movzx(eax, __word_ptr[r14 + 30]); // queue_notify_off
        a.imul(eax, __dword_ptr[NotifyMultiplier]);
        a.add(eax, __dword_ptr[NotifyOffset]);
        a.lea(r15, __[r13 + rax]);
        a.mov(__word_ptr[r14 + 28], 1);
        a.mov(__byte_ptr[r14 + 20], 0x0F);
        a.test(__byte_ptr[r14 + 20], 0x40);
        p.FailUnless(onZeroFlag: true, FailNeedsReset, running);
        a.Label(ref running);
    }

    /// <summary>Chain: request (readable) → response (writable); avail idx 1; notify; wait for IRQ and used idx 1.</summary>
    private static void PostAndWait(PayloadBuilder p)
    {
        var a = p.Asm;
        var wait = a.CreateLabel();
        var spin = a.CreateLabel();
        var done = a.CreateLabel();
        var elementOk = a.CreateLabel();
        var lengthOk = a.CreateLabel();
        var echoLow = a.CreateLabel();
        var echoHigh = a.CreateLabel();
        a.mov(rax, 0x4F48_4345_2D49_4350); // "PCI-ECHO"
        a.mov(__qword_ptr[Request], rax);
        a.mov(rax, 0x2144_4E55_4F52_2D31); // "1-ROUND!"
        a.mov(__qword_ptr[Request + 8], rax);
        Descriptor(a, 0, Request, RequestLength, flags: 1, next: 1); // VIRTQ_DESC_F_NEXT
        Descriptor(a, 1, Response, RequestLength, flags: 2, next: 0); // VIRTQ_DESC_F_WRITE
        a.mov(__word_ptr[Available + 4], 0); // ring[0] = head 0
        a.mov(__word_ptr[Available + 2], 1); // idx = 1
        a.sti();
        a.mov(__word_ptr[r15], 0);           // notify: queue index 0
        // Bounded: a couple of seconds of interpreted instructions on a software KVM.
        a.mov(ecx, 2_000_000);
        a.Label(ref wait);
        a.cmp(__dword_ptr[InterruptCount], 0);
        a.je(spin);
        a.cmp(__word_ptr[Used + 2], 1);
        a.je(done);
        a.Label(ref spin);
        a.pause();
        a.dec(ecx);
        a.jnz(wait);
        p.SerialText($"FAIL {FailNoInterrupt}\n");
        p.Exit(FailNoInterrupt);
        a.Label(ref done);
        a.cmp(__dword_ptr[Used + 4], 0);     // used element id = head 0
        p.FailUnless(onZeroFlag: true, FailUsedElement, elementOk);
        a.Label(ref elementOk);
        a.cmp(__dword_ptr[Used + 8], (int)RequestLength);
        p.FailUnless(onZeroFlag: true, FailUsedElement, lengthOk);
        a.Label(ref lengthOk);
        a.mov(rax, __qword_ptr[Response]);
        a.cmp(rax, __qword_ptr[Request]);
        p.FailUnless(onZeroFlag: true, FailEcho, echoLow);
        a.Label(ref echoLow);
        a.mov(rax, __qword_ptr[Response + 8]);
        a.cmp(rax, __qword_ptr[Request + 8]);
        p.FailUnless(onZeroFlag: true, FailEcho, echoHigh);
        a.Label(ref echoHigh);
    }

    private static void Descriptor(Assembler a, int index, ulong address, uint length, short flags, short next)
    {
        ulong entry = Descriptors + ((ulong)index * 16);
        a.mov(__dword_ptr[entry], (int)address);
        a.mov(__dword_ptr[entry + 4], 0);
        a.mov(__dword_ptr[entry + 8], (int)length);
        a.mov(__word_ptr[entry + 12], flags);
        a.mov(__word_ptr[entry + 14], next);
    }

    /// <summary>eax = config dword <paramref name="register"/> of the device at r12d.</summary>
    private static void ConfigRead(Assembler a, int register)
    {
        a.mov(eax, r12d);
        a.or(eax, register);
        a.mov(dx, ConfigAddress);
        a.@out(dx, eax);
        a.mov(dx, ConfigData);
        a.@in(eax, dx);
    }

    /// <summary>eax = config dword at ebx + <paramref name="displacement"/> (walking capabilities).</summary>
    private static void ConfigReadAt(Assembler a, int displacement)
    {
        a.lea(eax, __[rbx + displacement]);
        a.or(eax, r12d);
        a.mov(dx, ConfigAddress);
        a.@out(dx, eax);
        a.mov(dx, ConfigData);
        a.@in(eax, dx);
    }

    private static void ConfigWrite(Assembler a, int register, int value)
    {
        a.mov(eax, r12d);
        a.or(eax, register);
        a.mov(dx, ConfigAddress);
        a.@out(dx, eax);
        a.mov(eax, value);
        a.mov(dx, ConfigData);
        a.@out(dx, eax);
    }

    private static void ConfigWrite(Assembler a, int register, AssemblerRegister32 value)
    {
        a.mov(eax, r12d);
        a.or(eax, register);
        a.mov(dx, ConfigAddress);
        a.@out(dx, eax);
        a.mov(eax, value);
        a.mov(dx, ConfigData);
        a.@out(dx, eax);
    }

    /// <summary>A 64-bit interrupt gate for <paramref name="vector"/> (selector 8, DPL 0, present).</summary>
    private static void InstallGate(Assembler a, ulong idt, int vector, Label handler)
    {
        ulong gate = idt + ((ulong)vector * 16);
        a.lea(rax, __[handler]);
        a.mov(__word_ptr[gate], ax);
        a.mov(__word_ptr[gate + 2], 0x08);
        a.mov(__byte_ptr[gate + 4], 0);
        a.mov(__byte_ptr[gate + 5], 0x8E);
        a.shr(rax, 16);
        a.mov(__word_ptr[gate + 6], ax);
        a.shr(rax, 16);
        a.mov(__dword_ptr[gate + 8], eax);
        a.mov(__dword_ptr[gate + 12], 0);
    }
}
