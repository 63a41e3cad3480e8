using MiniVmm.Memory;

namespace MiniVmm.Boot.Tests;

public sealed class PageTablesAndGdtTests
{
    [Theory]
    [InlineData(0x9000, 0xA003)]                 // PML4[0] → PDPT, present | writable
    [InlineData(0x9008, 0)]                      // nothing above 512 GiB
    [InlineData(0xA000, 0xB003)]                 // PDPT[0..3] → the four page directories
    [InlineData(0xA008, 0xC003)]
    [InlineData(0xA010, 0xD003)]
    [InlineData(0xA018, 0xE003)]
    [InlineData(0xA020, 0)]                      // nothing above 4 GiB
    [InlineData(0xB000, 0x83)]                   // 2 MiB page at 0, present | writable | PS
    [InlineData(0xB008, 0x20_0083)]
    [InlineData(0xB040, 0x100_0083)]             // 16 MiB, where the kernel loads
    [InlineData(0xC000, 0x4000_0083)]            // 1 GiB
    [InlineData(0xEFF8, 0xFFE0_0083)]            // last 2 MiB below 4 GiB
    public void IdentityMapEntries(ulong address, ulong expected)
    {
        using var memory = GuestMemory.CreateFlat(1 << 20);
        Assert.Equal(BootLayout.Pml4, PageTables.Write(memory));
        Assert.Equal(expected, memory.Read<ulong>(new GuestAddress(address)));
    }

    [Fact]
    public void EveryDirectoryEntryMapsItsOwnAddress()
    {
        using var memory = GuestMemory.CreateFlat(1 << 20);
        PageTables.Write(memory);
        for (ulong i = 0; i < 4 * 512; i++)
            Assert.Equal((i << 21) | 0x83, memory.Read<ulong>(new GuestAddress(BootLayout.PageDirectories + (i * 8))));
    }

    [Theory]
    [InlineData(0, 0x0000000000000000)]
    [InlineData(1, 0x00AF9B000000FFFF)]
    [InlineData(2, 0x00CF93000000FFFF)]
    [InlineData(3, 0x008F8B000000FFFF)]
    public void GdtRawDescriptors(int index, ulong expected)
    {
        using var memory = GuestMemory.CreateFlat(1 << 20);
        Gdt.Write(memory);
        Assert.Equal(expected, memory.Read<ulong>(new GuestAddress(BootLayout.Gdt + ((ulong)index * 8))));
    }

    [Fact]
    public void SegmentsDecodedForTheMachineLayer()
    {
        Assert.Equal(new SegmentInfo(0, 0xFFFF_FFFF, 0x08, 0xB, true, 0, false, true, true, true), Gdt.Code);
        Assert.Equal(new SegmentInfo(0, 0xFFFF_FFFF, 0x10, 0x3, true, 0, true, true, false, true), Gdt.Data);
        Assert.Equal(new SegmentInfo(0, 0xFFFF_FFFF, 0x18, 0xB, true, 0, false, false, false, true), Gdt.Tss);
        Assert.Equal(new DescriptorTable(0x500, 31), Gdt.GdtTable);
        Assert.Equal(new DescriptorTable(0x520, 15), Gdt.IdtTable);
    }

    [Fact]
    public void SegmentDecoderHandlesBaseAndByteGranularLimit()
    {
        // base 0x12345678, limit 0x0ABCD (byte granular), type 2, S, DPL 3, present.
        const ulong descriptor = 0x1200_F234_5678_ABCD; // base[31:24]=12, access=F2, base[23:0]=345678, limit=ABCD
        var s = SegmentInfo.FromDescriptor(0x2B, descriptor);
        Assert.Equal(0x1234_5678ul, s.Base);
        Assert.Equal(0xABCDu, s.Limit);
        Assert.Equal((byte)2, s.Type);
        Assert.Equal((byte)3, s.Dpl);
        Assert.True(s.S && s.Present && !s.G && !s.L);
    }

    [Fact]
    public void IdtIsEmpty()
    {
        using var memory = GuestMemory.CreateFlat(1 << 20);
        memory.Write(new GuestAddress(BootLayout.Idt), Enumerable.Repeat((byte)0xCC, 16).ToArray());
        Gdt.Write(memory);
        Assert.Equal(0ul, memory.Read<ulong>(new GuestAddress(BootLayout.Idt)));
        Assert.Equal(0ul, memory.Read<ulong>(new GuestAddress(BootLayout.Idt + 8)));
    }
}
