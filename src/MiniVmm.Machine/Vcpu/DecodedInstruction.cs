using Iced.Intel;
using MiniVmm.Kvm;

namespace MiniVmm.Machine.Vcpu;

/// <summary>The instruction at the vCPU's RIP, fetched through its page tables and decoded with Iced.</summary>
public sealed class DecodedInstruction
{
    private DecodedInstruction(Instruction instruction, byte[] bytes, int bitness)
    {
        Instruction = instruction;
        Bytes = bytes;
        Bitness = bitness;
    }

    public Instruction Instruction { get; }
    public byte[] Bytes { get; }
    public int Bitness { get; }

    public string Text
    {
        get
        {
            var output = new StringOutput();
            new NasmFormatter().Format(Instruction, output);
            return output.ToStringAndReset();
        }
    }

    public string HexBytes => Convert.ToHexString(Bytes).ToLowerInvariant();

    public static int BitnessOf(in KvmSregs sregs) =>
        (sregs.Cr0 & 1) == 0 ? 16 : sregs.Cs.L != 0 ? 64 : sregs.Cs.Db != 0 ? 32 : 16;

    /// <summary>Decodes at RIP; null when the bytes at RIP cannot be read (unmapped page).</summary>
    public static DecodedInstruction? AtRip(GuestVirtualMemory memory, in KvmRegs regs, in KvmSregs sregs)
    {
        int bitness = BitnessOf(in sregs);
        ulong linear = bitness == 64 ? regs.Rip : sregs.Cs.Base + regs.Rip;
        var buffer = new byte[15];
        int read = memory.Read(linear, buffer);
        if (read == 0)
            return null;
        var decoder = Decoder.Create(bitness, new ByteArrayCodeReader(buffer, 0, read), regs.Rip);
        decoder.Decode(out var instruction);
        int length = instruction.IsInvalid ? Math.Min(read, 15) : instruction.Length;
        return new DecodedInstruction(instruction, buffer[..length], bitness);
    }
}
