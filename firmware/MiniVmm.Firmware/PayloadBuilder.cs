using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace MiniVmm.Firmware;

/// <summary>
/// Shared pieces of 64-bit payloads: they start in long mode at <see cref="PayloadPorts.CodeAddress"/>
/// (MiniVmm's 64-bit boot state), talk to COM1, and end through the debug-exit port.
/// </summary>
public sealed class PayloadBuilder
{
    public Assembler Asm { get; } = new(64);

    /// <summary>Writes one byte to COM1 after waiting for THR empty, as a polled console driver does.</summary>
    public void SerialByte(byte value)
    {
        var wait = Asm.CreateLabel();
        Asm.mov(dx, PayloadPorts.Com1LineStatus);
        Asm.Label(ref wait);
        Asm.@in(al, dx);
        Asm.test(al, PayloadPorts.LineStatusTransmitEmpty);
        Asm.jz(wait);
        Asm.mov(dx, PayloadPorts.Com1);
        Asm.mov(al, value);
        Asm.@out(dx, al);
    }

    public void SerialText(string text)
    {
        foreach (char c in text)
            SerialByte((byte)c);
    }

    /// <summary>Ends the VM with <paramref name="code"/>, then halts forever should the port be missing.</summary>
    public void Exit(byte code)
    {
        var halt = Asm.CreateLabel();
        Asm.mov(dx, PayloadPorts.DebugExit);
        Asm.mov(al, code);
        Asm.@out(dx, al);
        Asm.cli();
        Asm.Label(ref halt);
        Asm.hlt();
        Asm.jmp(halt);
    }

    /// <summary>Jumps to a shared failure tail that prints "FAIL n" and exits with code n.</summary>
    public void FailUnless(bool onZeroFlag, byte code, Label ok)
    {
        if (onZeroFlag)
            Asm.jz(ok);
        else
            Asm.jnz(ok);
        SerialText($"FAIL {code}\n");
        Exit(code);
    }

    public byte[] AssembleCode(ulong address)
    {
        using var stream = new MemoryStream();
        Asm.Assemble(new StreamCodeWriter(stream), address);
        return stream.ToArray();
    }

    /// <summary>The payload as an ELF: code at CodeAddress plus a zeroed data area at DataAddress.</summary>
    public byte[] ToElf(params ElfImage.Segment[] extraSegments) =>
        ElfImage.Build(PayloadPorts.CodeAddress,
        [
            new ElfImage.Segment(PayloadPorts.CodeAddress, AssembleCode(PayloadPorts.CodeAddress), 0),
            new ElfImage.Segment(PayloadPorts.DataAddress, [], PayloadPorts.DataSize),
            .. extraSegments,
        ]);
}
