using System.Xml.Linq;
using MiniVmm.Kvm;
using MiniVmm.Machine.Debug;

namespace MiniVmm.Machine.Tests.Debug;

public sealed class GdbRegistersTests
{
    private static readonly string[] RequiredCore =
        ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r15", "rip", "eflags", "cs", "ss", "ds", "es", "fs", "gs", "st0", "st7", "fctrl", "fop"];
    private static readonly string[] OtherFeatures = ["xmm15", "mxcsr", "fs_base", "gs_base", "cr3", "efer"];

    [Fact]
    public void TheTargetDescriptionHasTheRegistersGdbRequiresForX86_64InRegnumOrder()
    {
        var target = XDocument.Parse(GdbRegisters.TargetXml).Root!;
        Assert.Equal("i386:x86-64", target.Element("architecture")?.Value);
        var registers = target.Descendants("reg").ToList();
        Assert.Equal(Enumerable.Range(0, GdbRegisters.Count).Select(n => n.ToString()), registers.Select(r => r.Attribute("regnum")?.Value));
        var core = target.Elements("feature").Single(f => f.Attribute("name")?.Value == "org.gnu.gdb.i386.core").Elements("reg").Select(r => r.Attribute("name")?.Value).ToList();
        Assert.All(RequiredCore, name => Assert.Contains(name, core));
        var names = registers.Select(r => r.Attribute("name")?.Value).ToList();
        Assert.All(OtherFeatures, name => Assert.Contains(name, names));
    }

    [Fact]
    public void GPutsEachRegisterLittleEndianAtItsOffset()
    {
        var state = new VcpuRegisterState
        {
            Regs = new KvmRegs { Rax = 0x1122334455667788, Rip = 0xFFFF_FFFF_811E_660D, Rflags = 0x246 },
            Sregs = new KvmSregs { Cs = new KvmSegment { Selector = 0x10 }, Cr3 = 0x1_2000 },
        };
        string g = GdbRegisters.EncodeAll(state);
        Assert.StartsWith("8877665544332211", g);
        Assert.Equal("0d661e81ffffffff", g.Substring(GdbRegisters.Rip * 16, 16));
        Assert.Equal("46020000", g.Substring(GdbRegisters.Eflags * 16, 8));
        Assert.Equal("10000000", g.Substring((GdbRegisters.Eflags * 16) + 8, 8)); // cs, right after eflags
        Assert.Equal("0020010000000000", GdbRegisters.Encode(state, GdbRegisters.Count - 4)); // cr3
        Assert.Null(GdbRegisters.Encode(state, GdbRegisters.Count));
    }

    [Fact]
    public void GAndPWriteTheGeneralRegistersRipAndEflagsOnly()
    {
        var source = new VcpuRegisterState { Regs = new KvmRegs { Rbx = 7, R15 = 0xABCD, Rip = 0x1000, Rflags = 0x202 } };
        var regs = new KvmRegs();
        Assert.True(GdbRegisters.TryDecodeAll(GdbRegisters.EncodeAll(source), ref regs));
        Assert.Equal(source.Regs, regs);

        Assert.True(GdbRegisters.TryDecodeOne(GdbRegisters.Rip, "0010000000000000", ref regs));
        Assert.Equal(0x1000UL, regs.Rip);
        Assert.False(GdbRegisters.TryDecodeOne(GdbRegisters.Rip, "0010", ref regs)); // wrong size
        Assert.False(GdbRegisters.TryDecodeOne(GdbRegisters.Eflags + 1, "10000000", ref regs)); // cs: not writable
        Assert.False(GdbRegisters.TryDecodeAll("zz", ref regs));
    }
}
