using static Iced.Intel.AssemblerRegisters;
using Iced.Intel;

namespace MiniVmm.Firmware;

/// <summary>Payloads that need more than the bootstrap processor or CPU feature checks.</summary>
public static class SmpPayloads
{
    private const uint IcrLow = 0x300, IcrHigh = 0x310, SpuriousVector = 0xF0;
    private const uint DeliveryInit = 0x500, DeliveryStartup = 0x600, LevelAssert = 0x4000;
    private const ulong ApFlagOffset = 0xF00;

    /// <summary>
    /// The BSP wakes APIC id 1 with INIT-SIPI-SIPI (as Linux does); the AP starts in real mode at the
    /// trampoline, prints "AP up" and sets a flag the BSP waits for. Proves a second vCPU thread runs.
    /// </summary>
    public static byte[] StartSecondCpu()
    {
        var p = new PayloadBuilder();
        var a = p.Asm;
        var wait = a.CreateLabel();
        var seen = a.CreateLabel();
        var trampoline = a.CreateLabel();
        byte[] trampolineBytes = ApTrampoline();
        // The loader puts nothing below 1 MiB, so copy the real-mode start code there ourselves.
        a.lea(rsi, __[trampoline]);
        a.mov(rdi, PayloadPorts.ApTrampolineAddress);
        a.mov(ecx, trampolineBytes.Length);
        a.rep.movsb();
        a.mov(rbx, PayloadPorts.LapicBase);
        a.mov(__dword_ptr[rbx + SpuriousVector], 0x1FF);        // software-enable the LAPIC
        a.mov(__dword_ptr[rbx + IcrHigh], 1u << 24);             // destination APIC id 1
        a.mov(__dword_ptr[rbx + IcrLow], DeliveryInit | LevelAssert);
        uint vector = (uint)(PayloadPorts.ApTrampolineAddress >> 12);
        for (int i = 0; i < 2; i++)
        {
            a.mov(__dword_ptr[rbx + IcrHigh], 1u << 24);
            a.mov(__dword_ptr[rbx + IcrLow], DeliveryStartup | LevelAssert | vector);
        }
        // Bounded wait: about a second of interpreted instructions on a software KVM, far less on hardware.
        a.mov(ecx, 2_000_000);
        a.Label(ref wait);
        a.cmp(__byte_ptr[PayloadPorts.ApTrampolineAddress + ApFlagOffset], 1);
        a.je(seen);
        a.pause();
        a.dec(ecx);
        a.jnz(wait);
        p.SerialText("FAIL 50: AP never came up\n");
        p.Exit(50);
        a.Label(ref seen);
        p.SerialText("BSP saw AP\n");
        p.Exit(0);
        a.Label(ref trampoline);
        a.db(trampolineBytes);
        return p.ToElf();
    }

    /// <summary>16-bit code the AP runs after SIPI: CS base is the trampoline page, DS is made equal to CS.</summary>
    private static byte[] ApTrampoline()
    {
        var a = new Assembler(16);
        var halt = a.CreateLabel();
        a.cli();
        a.mov(ax, cs);
        a.mov(ds, ax);
        foreach (char c in "AP up\n")
        {
            a.mov(dx, PayloadPorts.Com1);
            a.mov(al, (byte)c);
            a.@out(dx, al);
        }
        a.mov(__byte_ptr[ApFlagOffset], 1);
        a.Label(ref halt);
        a.hlt();
        a.jmp(halt);
        using var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), 0);
        return stream.ToArray();
    }

    /// <summary>Reads RFLAGS and fails with <paramref name="failCode"/> unless AC (bit 18) is as expected.</summary>
    private static void ExpectAlignmentCheck(PayloadBuilder p, bool set, byte failCode)
    {
        var a = p.Asm;
        var ok = a.CreateLabel();
        a.pushfq();
        a.pop(rax);
        a.bt(eax, 18);
        if (set)
            a.jc(ok);
        else
            a.jnc(ok);
        p.SerialText($"FAIL {failCode}\n");
        p.Exit(failCode);
        a.Label(ref ok);
    }

    /// <summary>stac/clac toggle RFLAGS.AC (where the CPU has SMAP; otherwise the payload says so and passes).</summary>
    public static byte[] ClacStac()
    {
        var p = new PayloadBuilder();
        var a = p.Asm;
        var hasSmap = a.CreateLabel();
        a.mov(eax, 7);
        a.xor(ecx, ecx);
        a.cpuid();
        a.bt(ebx, 20);
        a.jc(hasSmap);
        p.SerialText("SMAP ABSENT\n");
        p.Exit(0);
        a.Label(ref hasSmap);
        a.stac();
        ExpectAlignmentCheck(p, set: true, failCode: 60);
        a.clac();
        ExpectAlignmentCheck(p, set: false, failCode: 61);
        p.SerialText("CLAC STAC OK\n");
        p.Exit(0);
        return p.ToElf();
    }
}
