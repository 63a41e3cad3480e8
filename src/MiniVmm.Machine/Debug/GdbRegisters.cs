using System.Buffers.Binary;
using System.Text;
using MiniVmm.Kvm;

namespace MiniVmm.Machine.Debug;

/// <summary>One vCPU's registers as gdb sees them, read from KVM while the vCPU is parked.</summary>
public struct VcpuRegisterState
{
    public KvmRegs Regs;
    public KvmSregs Sregs;
    public KvmFpu Fpu;
}

/// <summary>
/// The register set we describe to gdb (target.xml) and its wire order for g/G/p/P: gdb's i386:x86-64
/// core and SSE features (which gdb requires by name), fs_base/gs_base (org.gnu.gdb.i386.segments), and
/// the control registers and EFER in a feature of our own, which gdb shows as plain registers. Values go
/// as little-endian hex in the regnum order of the XML. Only the general registers, RIP and EFLAGS can be
/// written; writes to the others are refused.
/// </summary>
public static class GdbRegisters
{
    private sealed record Register(string Name, int Bits, string Type, string Feature, string? Group = null);

    private const string Core = "org.gnu.gdb.i386.core", Sse = "org.gnu.gdb.i386.sse";
    private const string Segments = "org.gnu.gdb.i386.segments", Control = "org.minivmm.x86.control";

    private static readonly string[] GeneralNames =
        ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
    private static readonly string[] SegmentNames = ["cs", "ss", "ds", "es", "fs", "gs"];
    private static readonly string[] X87ControlNames = ["fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"];
    private static readonly string[] ControlNames = ["cr0", "cr2", "cr3", "cr4", "cr8", "efer"];

    public const int Rip = 16, Eflags = 17;
    private const int FirstSegment = 18, FirstSt = 24, FirstX87Control = 32, FirstXmm = 40, Mxcsr = 56, FsBase = 57, GsBase = 58, FirstControl = 59;

    private static readonly Register[] All = Build();

    public static int Count => All.Length;

    private static Register[] Build()
    {
        var list = new List<Register>();
        list.AddRange(GeneralNames.Select(name => new Register(name, 64, name is "rsp" or "rbp" ? "data_ptr" : "int64", Core)));
        list.Add(new Register("rip", 64, "code_ptr", Core));
        list.Add(new Register("eflags", 32, "int32", Core));
        list.AddRange(SegmentNames.Select(name => new Register(name, 32, "int32", Core)));
        list.AddRange(Enumerable.Range(0, 8).Select(i => new Register($"st{i}", 80, "i387_ext", Core)));
        list.AddRange(X87ControlNames.Select(name => new Register(name, 32, "int", Core, "float")));
        list.AddRange(Enumerable.Range(0, 16).Select(i => new Register($"xmm{i}", 128, "uint128", Sse, "vector")));
        list.Add(new Register("mxcsr", 32, "int", Sse, "vector"));
        list.Add(new Register("fs_base", 64, "int64", Segments));
        list.Add(new Register("gs_base", 64, "int64", Segments));
        list.AddRange(ControlNames.Select(name => new Register(name, 64, "int64", Control, "system")));
        return [.. list];
    }

    /// <summary>The target description gdb fetches with qXfer:features:read:target.xml.</summary>
    public static string TargetXml { get; } = BuildTargetXml();

    private static string BuildTargetXml()
    {
        var xml = new StringBuilder();
        xml.Append("<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\"><target version=\"1.0\"><architecture>i386:x86-64</architecture>");
        for (int regnum = 0; regnum < All.Length;)
        {
            string feature = All[regnum].Feature;
            xml.Append($"<feature name=\"{feature}\">");
            for (; regnum < All.Length && All[regnum].Feature == feature; regnum++)
            {
                var r = All[regnum];
                xml.Append($"<reg name=\"{r.Name}\" bitsize=\"{r.Bits}\" type=\"{r.Type}\" regnum=\"{regnum}\"");
                xml.Append(r.Group is null ? "/>" : $" group=\"{r.Group}\"/>");
            }
            xml.Append("</feature>");
        }
        xml.Append("</target>");
        return xml.ToString();
    }

    /// <summary>The 'g' reply: every register in regnum order.</summary>
    public static string EncodeAll(in VcpuRegisterState state)
    {
        var hex = new StringBuilder();
        for (int regnum = 0; regnum < All.Length; regnum++)
            hex.Append(Encode(in state, regnum));
        return hex.ToString();
    }

    /// <summary>The 'p' reply for one register; null for a regnum we do not describe.</summary>
    public static string? Encode(in VcpuRegisterState state, int regnum)
    {
        if (regnum < 0 || regnum >= All.Length)
            return null;
        Span<byte> bytes = stackalloc byte[16];
        bytes.Clear();
        int size = All[regnum].Bits / 8;
        var fpu = state.Fpu;
        var regs = state.Regs;
        switch (regnum)
        {
            case < 16 or Rip or Eflags:
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, GeneralSlot(ref regs, regnum));
                break;
            case < FirstSt:
                BinaryPrimitives.WriteUInt32LittleEndian(bytes, Segment(in state.Sregs, regnum - FirstSegment).Selector);
                break;
            case < FirstX87Control:
                ((ReadOnlySpan<byte>)fpu.Fpr).Slice((regnum - FirstSt) * 16, 10).CopyTo(bytes);
                break;
            case < FirstXmm:
                BinaryPrimitives.WriteUInt32LittleEndian(bytes, X87Control(in fpu, regnum - FirstX87Control));
                break;
            case < Mxcsr:
                ((ReadOnlySpan<byte>)fpu.Xmm).Slice((regnum - FirstXmm) * 16, 16).CopyTo(bytes);
                break;
            case Mxcsr:
                BinaryPrimitives.WriteUInt32LittleEndian(bytes, fpu.Mxcsr);
                break;
            case FsBase:
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, state.Sregs.Fs.Base);
                break;
            case GsBase:
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, state.Sregs.Gs.Base);
                break;
            default:
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, ControlRegister(in state.Sregs, regnum - FirstControl));
                break;
        }
        return Convert.ToHexString(bytes[..size]).ToLowerInvariant();
    }

    /// <summary>
    /// Applies a 'G' payload (regnum order, as 'g' sends it) to the writable registers; false when it is not
    /// hex or too short to hold them. The rest of the payload (segments, x87, SSE, control) is ignored.
    /// </summary>
    public static bool TryDecodeAll(string hex, ref KvmRegs regs)
    {
        const int writableBytes = (18 * 8) - 4; // 16 general registers + RIP (8 bytes each) + EFLAGS (4)
        if (hex.Length < writableBytes * 2 || !TryParseHex(hex.AsSpan(0, writableBytes * 2), out byte[] bytes))
            return false;
        for (int regnum = 0; regnum <= Eflags; regnum++)
        {
            var value = bytes.AsSpan(regnum * 8);
            GeneralSlot(ref regs, regnum) = regnum == Eflags ? BinaryPrimitives.ReadUInt32LittleEndian(value) : BinaryPrimitives.ReadUInt64LittleEndian(value);
        }
        return true;
    }

    /// <summary>Applies a 'P' write; false for a register we cannot write or a value of the wrong size.</summary>
    public static bool TryDecodeOne(int regnum, string hex, ref KvmRegs regs)
    {
        if (regnum is < 0 or > Eflags || !TryParseHex(hex, out byte[] bytes) || bytes.Length != All[regnum].Bits / 8)
            return false;
        GeneralSlot(ref regs, regnum) = regnum == Eflags ? BinaryPrimitives.ReadUInt32LittleEndian(bytes) : BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        return true;
    }

    public static bool TryParseHex(ReadOnlySpan<char> hex, out byte[] bytes)
    {
        bytes = [];
        if (hex.Length % 2 != 0)
            return false;
        try
        {
            bytes = Convert.FromHexString(hex);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static ref ulong GeneralSlot(ref KvmRegs regs, int regnum)
    {
        switch (regnum)
        {
            case 0: return ref regs.Rax;
            case 1: return ref regs.Rbx;
            case 2: return ref regs.Rcx;
            case 3: return ref regs.Rdx;
            case 4: return ref regs.Rsi;
            case 5: return ref regs.Rdi;
            case 6: return ref regs.Rbp;
            case 7: return ref regs.Rsp;
            case 8: return ref regs.R8;
            case 9: return ref regs.R9;
            case 10: return ref regs.R10;
            case 11: return ref regs.R11;
            case 12: return ref regs.R12;
            case 13: return ref regs.R13;
            case 14: return ref regs.R14;
            case 15: return ref regs.R15;
            case Rip: return ref regs.Rip;
            case Eflags: return ref regs.Rflags;
            default: throw new ArgumentOutOfRangeException(nameof(regnum));
        }
    }

    private static KvmSegment Segment(in KvmSregs sregs, int index) => index switch
    {
        0 => sregs.Cs,
        1 => sregs.Ss,
        2 => sregs.Ds,
        3 => sregs.Es,
        4 => sregs.Fs,
        _ => sregs.Gs,
    };

    private static ulong ControlRegister(in KvmSregs sregs, int index) => index switch
    {
        0 => sregs.Cr0,
        1 => sregs.Cr2,
        2 => sregs.Cr3,
        3 => sregs.Cr4,
        4 => sregs.Cr8,
        _ => sregs.Efer,
    };

    /// <summary>fctrl .. fop. KVM keeps the abridged (FXSAVE) tag byte: a set bit is a valid register (tag 00), clear is empty (11).</summary>
    private static uint X87Control(in KvmFpu fpu, int index) => index switch
    {
        0 => fpu.Fcw,
        1 => fpu.Fsw,
        2 => FullTag(fpu.Ftwx),
        4 => (uint)fpu.LastIp,
        6 => (uint)fpu.LastDp,
        7 => fpu.LastOpcode,
        _ => 0, // fiseg, foseg: 64-bit FXSAVE keeps no selectors
    };

    private static uint FullTag(byte abridged)
    {
        uint tag = 0;
        for (int i = 0; i < 8; i++)
            tag |= ((abridged >> i) & 1) != 0 ? 0u : 3u << (2 * i);
        return tag;
    }
}
