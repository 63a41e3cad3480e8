using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace MiniVmm.Firmware;

/// <summary>
/// Guest-side PCI configuration mechanism #1 (ports 0xCF8/0xCFC), as Linux uses without ACPI MCFG. Every helper
/// addresses the function whose conf1 base (enable bit | bus | device | function) is in r12d, and clobbers eax
/// and dx. Helpers ending in At address relative to ebx, the capability being walked.
/// </summary>
internal static class PciConf1
{
    public const ushort AddressPort = 0xCF8, DataPort = 0xCFC;

    /// <summary>eax = config dword <paramref name="register"/>.</summary>
    public static void Read(Assembler a, int register)
    {
        Select(a, register);
        a.mov(dx, DataPort);
        a.@in(eax, dx);
    }

    /// <summary>eax = config dword at ebx + <paramref name="displacement"/>.</summary>
    public static void ReadAt(Assembler a, int displacement)
    {
        SelectAt(a, displacement);
        a.mov(dx, DataPort);
        a.@in(eax, dx);
    }

    public static void Write(Assembler a, int register, int value)
    {
        Select(a, register);
        a.mov(eax, value);
        Store(a);
    }

    public static void Write(Assembler a, int register, AssemblerRegister32 value)
    {
        Select(a, register);
        a.mov(eax, value);
        Store(a);
    }

    /// <summary>Writes the word at byte 2 of the dword at ebx (a capability's message control).</summary>
    public static void WriteControlWordAt(Assembler a, short value)
    {
        SelectAt(a, 0);
        a.mov(ax, value);
        a.mov(dx, DataPort + 2); // conf1 selects the dword; the byte lanes come from the data port offset
        a.@out(dx, ax);
    }

    private static void Select(Assembler a, int register)
    {
        a.mov(eax, r12d);
        a.or(eax, register);
        a.mov(dx, AddressPort);
        a.@out(dx, eax);
    }

    private static void SelectAt(Assembler a, int displacement)
    {
        a.lea(eax, __[rbx + displacement]);
        a.or(eax, r12d);
        a.mov(dx, AddressPort);
        a.@out(dx, eax);
    }

    private static void Store(Assembler a)
    {
        a.mov(dx, DataPort);
        a.@out(dx, eax);
    }
}
