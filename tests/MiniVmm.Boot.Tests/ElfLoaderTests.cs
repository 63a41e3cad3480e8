using MiniVmm.Memory;
using static MiniVmm.Boot.Tests.TestImages;

namespace MiniVmm.Boot.Tests;

public sealed class ElfLoaderTests
{
    [Fact]
    public void LoadsSegmentsAtPhysicalAddressesAndZeroesBss()
    {
        var text = CodeLike(5000, 2);
        var data = CodeLike(3000, 3);
        var elf = ElfImage.Parse(Elf(KernelBase, new TestSegment(KernelBase, text, 8192), new TestSegment(KernelBase + 0x20_0000, data, 0x10_0000)), "vmlinux");
        using var memory = GuestMemory.CreateFlat(32 << 20);
        memory.Write(new GuestAddress(KernelBase), Enumerable.Repeat((byte)0xCC, 0x40_0000).ToArray());

        var result = ElfLoader.Load(memory, elf);

        Assert.Equal(KernelBase, result.Entry);
        Assert.Equal(new PhysicalRange(KernelBase, KernelBase + 0x30_0000), result.Range);
        var loadedText = new byte[8192];
        memory.Read(new GuestAddress(KernelBase), loadedText);
        Assert.Equal(text, loadedText[..5000]);
        Assert.All(loadedText[5000..], b => Assert.Equal(0, b));
        var loadedData = new byte[0x10_0000];
        memory.Read(new GuestAddress(KernelBase + 0x20_0000), loadedData);
        Assert.Equal(data, loadedData[..3000]);
        Assert.All(loadedData[3000..], b => Assert.Equal(0, b));
        // Bytes between segments are not the loader's business.
        Assert.Equal(0xCC, memory.Read<byte>(new GuestAddress(KernelBase + 8192)));
    }

    [Fact]
    public void KernelLargerThanGuestMemoryNamesTheSizeNeeded()
    {
        var elf = ElfImage.Parse(Elf(KernelBase, new TestSegment(KernelBase, new byte[16], 0x80_0000)), "vmlinux");
        using var memory = GuestMemory.CreateFlat(20 << 20);
        var e = Assert.Throws<BootException>(() => ElfLoader.Load(memory, elf));
        Assert.Equal("kernel needs memory up to 0x1800000, but the guest has 0x1400000; use --memory 128M or more", e.Message);
    }
}
