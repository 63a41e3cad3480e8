using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace MiniVmm.Firmware;

/// <summary>
/// Tiny guest programs the integration tests boot on real /dev/kvm. Each is a few hundred
/// supervisor-mode instructions, so each runs in milliseconds even where KVM interprets them.
/// Exit codes: 0 = all checks passed; any other value names the check that failed.
/// </summary>
public static class Payloads
{
    /// <summary>Prints <paramref name="text"/> on COM1 and exits with <paramref name="exitCode"/>.</summary>
    public static byte[] SerialHello(string text, byte exitCode = 0)
    {
        var p = new PayloadBuilder();
        p.SerialText(text);
        p.Exit(exitCode);
        return p.ToElf();
    }

    /// <summary>Prints <paramref name="text"/> and halts with interrupts off: the VM idles until the host stops it.</summary>
    public static byte[] PrintAndHalt(string text)
    {
        var p = new PayloadBuilder();
        var halt = p.Asm.CreateLabel();
        p.SerialText(text);
        p.Asm.cli();
        p.Asm.Label(ref halt);
        p.Asm.hlt();
        p.Asm.jmp(halt);
        return p.ToElf();
    }

    /// <summary>
    /// Prints <paramref name="banner"/>, then echoes COM1 input by polling LSR as a polled console does: a
    /// received byte goes back out as it is, one that came with LSR.BI (a break) as "&lt;break&gt;". Runs
    /// until the host stops it.
    /// </summary>
    public static byte[] SerialEcho(string banner)
    {
        const byte DataReady = 0x01, BreakInterrupt = 0x10;
        var p = new PayloadBuilder();
        var poll = p.Asm.CreateLabel();
        var plain = p.Asm.CreateLabel();
        p.SerialText(banner);
        p.Asm.Label(ref poll);
        p.Asm.mov(dx, PayloadPorts.Com1LineStatus);
        p.Asm.@in(al, dx);
        p.Asm.test(al, DataReady);
        p.Asm.jz(poll);
        p.Asm.mov(bl, al); // the LSR that came with this byte: BI clears when LSR is read
        p.Asm.mov(dx, PayloadPorts.Com1);
        p.Asm.@in(al, dx);
        p.Asm.test(bl, BreakInterrupt);
        p.Asm.jz(plain);
        p.SerialText("<break>");
        p.Asm.jmp(poll);
        p.Asm.Label(ref plain);
        p.Asm.@out(dx, al); // THR is empty: the model transmits at once, and nothing else writes here
        p.Asm.jmp(poll);
        return p.ToElf();
    }

    /// <summary><paramref name="count"/> writes to port 0x80, each a PIO exit, then exit 0. The exit benchmark.</summary>
    public static byte[] PioExits(uint count)
    {
        var p = new PayloadBuilder();
        var loop = p.Asm.CreateLabel();
        p.Asm.mov(ecx, count);
        p.Asm.mov(dx, PayloadPorts.PostCode);
        p.Asm.Label(ref loop);
        p.Asm.@out(dx, al);
        p.Asm.dec(ecx);
        p.Asm.jnz(loop);
        p.Exit(0);
        return p.ToElf();
    }

    /// <summary>Reads and writes an MMIO address nobody claims: reads must see all ones, writes vanish.</summary>
    public static byte[] UnclaimedMmio()
    {
        var p = new PayloadBuilder();
        var readOk = p.Asm.CreateLabel();
        var writeOk = p.Asm.CreateLabel();
        p.Asm.mov(rbx, PayloadPorts.UnclaimedMmio);
        p.Asm.mov(eax, __dword_ptr[rbx]);
        p.Asm.cmp(eax, -1);
        p.FailUnless(onZeroFlag: true, 10, readOk);
        p.Asm.Label(ref readOk);
        p.Asm.mov(__dword_ptr[rbx], 0x1234_5678);
        p.Asm.mov(eax, __dword_ptr[rbx]);
        p.Asm.cmp(eax, -1);
        p.FailUnless(onZeroFlag: true, 11, writeOk);
        p.Asm.Label(ref writeOk);
        p.SerialText("MMIO OK\n");
        p.Exit(0);
        return p.ToElf();
    }

    /// <summary>
    /// Reads <paramref name="expected"/> at <paramref name="address"/> (a read-only memory slot), stores its complement
    /// there, and checks the store did not land: the slot's write exits as MMIO and the VMM drops it.
    /// </summary>
    public static byte[] ReadOnlySlot(ulong address, uint expected)
    {
        var p = new PayloadBuilder();
        var readOk = p.Asm.CreateLabel();
        var writeDropped = p.Asm.CreateLabel();
        p.Asm.mov(rbx, address);
        p.Asm.mov(eax, __dword_ptr[rbx]);
        p.Asm.cmp(eax, unchecked((int)expected));
        p.FailUnless(onZeroFlag: true, 40, readOk);
        p.Asm.Label(ref readOk);
        p.Asm.mov(__dword_ptr[rbx], unchecked((int)~expected));
        p.Asm.mov(eax, __dword_ptr[rbx]);
        p.Asm.cmp(eax, unchecked((int)expected));
        p.FailUnless(onZeroFlag: true, 41, writeDropped);
        p.Asm.Label(ref writeDropped);
        p.SerialText("READONLY OK\n");
        p.Exit(0);
        return p.ToElf();
    }

    /// <summary>
    /// Executes int3 at CPL0 with a #BP handler installed. This host's KVM cannot emulate it; MiniVmm
    /// injects the #BP itself. Checks the handler ran and saw RIP just past the int3.
    /// </summary>
    public static byte[] Breakpoint()
    {
        var p = new PayloadBuilder();
        var a = p.Asm;
        var handler = a.CreateLabel();
        var afterInt3 = a.CreateLabel();
        var ranOk = a.CreateLabel();
        var ripOk = a.CreateLabel();
        ulong idt = PayloadPorts.DataAddress;
        ulong idtr = PayloadPorts.DataAddress + 0x1000;
        ulong flag = PayloadPorts.DataAddress + 0x1010;
        ulong savedRip = PayloadPorts.DataAddress + 0x1018;
        InstallGate(a, idt, vector: 3, handler);
        a.mov(__word_ptr[idtr], 256 * 16 - 1);
        a.mov(rax, idt);
        a.mov(__qword_ptr[idtr + 2], rax);
        a.lidt(__[idtr]);
        a.int3();
        a.Label(ref afterInt3);
        a.cmp(__byte_ptr[flag], 0xB0);
        p.FailUnless(onZeroFlag: true, 20, ranOk);
        a.Label(ref ranOk);
        a.lea(rax, __[afterInt3]);
        a.cmp(__qword_ptr[savedRip], rax);
        p.FailUnless(onZeroFlag: true, 21, ripOk);
        a.Label(ref ripOk);
        p.SerialText("BREAKPOINT OK\n");
        p.Exit(0);

        a.Label(ref handler);
        a.mov(rax, __qword_ptr[rsp]); // the pushed RIP
        a.mov(__qword_ptr[savedRip], rax);
        a.mov(__byte_ptr[flag], 0xB0);
        a.iretq();
        return p.ToElf();
    }

    /// <summary>Writes a 64-bit interrupt gate for <paramref name="vector"/> pointing at <paramref name="handler"/>.</summary>
    private static void InstallGate(Assembler a, ulong idt, int vector, Label handler)
    {
        ulong gate = idt + (ulong)vector * 16;
        a.lea(rax, __[handler]);
        a.mov(__word_ptr[gate], ax);
        a.mov(__word_ptr[gate + 2], 0x08);   // code selector
        a.mov(__byte_ptr[gate + 4], 0);      // IST
        a.mov(__byte_ptr[gate + 5], 0x8E);   // present, DPL0, 64-bit interrupt gate
        a.shr(rax, 16);
        a.mov(__word_ptr[gate + 6], ax);
        a.shr(rax, 16);
        a.mov(__dword_ptr[gate + 8], eax);
        a.mov(__dword_ptr[gate + 12], 0);
    }

    /// <summary>fninit then fwait: with no x87 exception pending fwait is a no-op and execution goes on.</summary>
    public static byte[] Fwait()
    {
        var p = new PayloadBuilder();
        p.Asm.fninit();
        p.Asm.wait();
        p.SerialText("FWAIT OK\n");
        p.Exit(0);
        return p.ToElf();
    }

    /// <summary>popcnt with register and memory sources, and the ZF rule for a zero source.</summary>
    public static byte[] Popcnt()
    {
        var p = new PayloadBuilder();
        var a = p.Asm;
        var ok1 = a.CreateLabel();
        var ok2 = a.CreateLabel();
        var ok3 = a.CreateLabel();
        var ok4 = a.CreateLabel();
        ulong operand = PayloadPorts.DataAddress;
        a.mov(rax, 0xF0F0_0000_0000_F0F1);
        a.popcnt(rbx, rax);
        a.cmp(rbx, 17);
        p.FailUnless(onZeroFlag: true, 30, ok1);
        a.Label(ref ok1);
        a.mov(__dword_ptr[operand], 0x0000_00FF);
        a.popcnt(ecx, __dword_ptr[operand]);
        a.cmp(ecx, 8);
        p.FailUnless(onZeroFlag: true, 31, ok2);
        a.Label(ref ok2);
        a.xor(edx, edx);
        a.popcnt(esi, edx);     // zero source: ZF=1, result 0
        p.FailUnless(onZeroFlag: true, 32, ok3);
        a.Label(ref ok3);
        a.test(esi, esi);
        p.FailUnless(onZeroFlag: true, 33, ok4);
        a.Label(ref ok4);
        p.SerialText("POPCNT OK\n");
        p.Exit(0);
        return p.ToElf();
    }

    /// <summary>lock cmpxchg16b: a matching compare stores RCX:RBX; a mismatch loads memory into RDX:RAX.</summary>
    public static byte[] Cmpxchg16b()
    {
        var p = new PayloadBuilder();
        var a = p.Asm;
        var ok = new[] { a.CreateLabel(), a.CreateLabel(), a.CreateLabel(), a.CreateLabel(), a.CreateLabel() };
        ulong cell = PayloadPorts.DataAddress + 0x100; // 16-byte aligned
        a.mov(rax, 1);
        a.mov(__qword_ptr[cell], rax);
        a.mov(rax, 2);
        a.mov(__qword_ptr[cell + 8], rax);
        a.mov(rdi, cell);
        a.mov(rax, 1);
        a.mov(rdx, 2);
        a.mov(rbx, 3);
        a.mov(rcx, 4);
        a.@lock.cmpxchg16b(__[rdi]);
        p.FailUnless(onZeroFlag: true, 40, ok[0]); // ZF must be set
        a.Label(ref ok[0]);
        a.cmp(__qword_ptr[cell], 3);
        p.FailUnless(onZeroFlag: true, 41, ok[1]);
        a.Label(ref ok[1]);
        a.mov(rax, 9);           // mismatch now
        a.@lock.cmpxchg16b(__[rdi]);
        p.FailUnless(onZeroFlag: false, 42, ok[2]); // ZF must be clear
        a.Label(ref ok[2]);
        a.cmp(rax, 3);
        p.FailUnless(onZeroFlag: true, 43, ok[3]);
        a.Label(ref ok[3]);
        a.cmp(rdx, 4);
        p.FailUnless(onZeroFlag: true, 44, ok[4]);
        a.Label(ref ok[4]);
        p.SerialText("CMPXCHG16B OK\n");
        p.Exit(0);
        return p.ToElf();
    }
}
