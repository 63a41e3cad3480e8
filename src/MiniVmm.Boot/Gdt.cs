using System.Buffers.Binary;
using MiniVmm.Memory;

namespace MiniVmm.Boot;

/// <summary>
/// A segment as the CPU caches it, in plain fields so the machine layer can fill a KVM segment
/// without this project knowing KVM. Limit is in bytes (scaled when G is set), as KVM expects.
/// </summary>
public readonly record struct SegmentInfo(ulong Base, uint Limit, ushort Selector, byte Type, bool Present,
    byte Dpl, bool Db, bool S, bool L, bool G)
{
    /// <summary>Decodes an 8-byte GDT descriptor (Intel SDM vol. 3, 3.4.5).</summary>
    public static SegmentInfo FromDescriptor(ushort selector, ulong descriptor)
    {
        uint rawLimit = (uint)(descriptor & 0xFFFF) | (uint)((descriptor >> 32) & 0xF_0000);
        bool granularity = ((descriptor >> 55) & 1) != 0;
        return new SegmentInfo(
            Base: ((descriptor >> 16) & 0xFF_FFFF) | (((descriptor >> 56) & 0xFF) << 24),
            Limit: granularity ? (rawLimit << 12) | 0xFFF : rawLimit,
            Selector: selector,
            Type: (byte)((descriptor >> 40) & 0xF),
            Present: ((descriptor >> 47) & 1) != 0,
            Dpl: (byte)((descriptor >> 45) & 3),
            Db: ((descriptor >> 54) & 1) != 0,
            S: ((descriptor >> 44) & 1) != 0,
            L: ((descriptor >> 53) & 1) != 0,
            G: granularity);
    }
}

/// <summary>Base and limit for LGDT/LIDT (KVM's dtable).</summary>
public readonly record struct DescriptorTable(ulong Base, ushort Limit);

/// <summary>
/// The boot GDT at 0x500 (null, 64-bit code 0x08, flat data 0x10, TSS 0x18) and an empty IDT at
/// 0x520. boot.rst's 64-bit protocol puts no requirement on selectors or descriptors ("64-bit mode
/// does not really use segments") and startup_64 loads its own GDT at once; interrupts stay off
/// until the kernel installs its own IDT.
/// </summary>
public static class Gdt
{
    public const ushort CodeSelector = 0x08;
    public const ushort DataSelector = 0x10;
    public const ushort TssSelector = 0x18;

    /// <summary>Null; code: 64-bit (L=1), present, execute/read, accessed; data: 4 GiB flat read/write; TSS: busy 64-bit TSS.</summary>
    public static ReadOnlySpan<ulong> Entries => [0, 0x00AF_9B00_0000_FFFF, 0x00CF_9300_0000_FFFF, 0x008F_8B00_0000_FFFF];

    /// <summary>One 16-byte null gate: any exception before the kernel's IDT is a visible triple fault.</summary>
    public const int IdtSize = 16;

    public static SegmentInfo Code => SegmentInfo.FromDescriptor(CodeSelector, Entries[CodeSelector / 8]);
    public static SegmentInfo Data => SegmentInfo.FromDescriptor(DataSelector, Entries[DataSelector / 8]);
    public static SegmentInfo Tss => SegmentInfo.FromDescriptor(TssSelector, Entries[TssSelector / 8]);

    public static DescriptorTable GdtTable => new(BootLayout.Gdt, (ushort)((Entries.Length * 8) - 1));
    public static DescriptorTable IdtTable => new(BootLayout.Idt, IdtSize - 1);

    public static void Write(GuestMemory memory)
    {
        Span<byte> gdt = stackalloc byte[Entries.Length * 8];
        for (int i = 0; i < Entries.Length; i++)
            BinaryPrimitives.WriteUInt64LittleEndian(gdt[(i * 8)..], Entries[i]);
        memory.Write(new GuestAddress(BootLayout.Gdt), gdt);
        memory.Write(new GuestAddress(BootLayout.Idt), stackalloc byte[IdtSize]);
    }
}
