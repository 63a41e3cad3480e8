using System.Text;
using MiniVmm.Memory;
using static MiniVmm.Boot.Tests.TestImages;

namespace MiniVmm.Boot.Tests;

public sealed class LinuxLoaderTests
{
    private const ulong MiB = 1 << 20;
    private const string CommandLine = "console=ttyS0 reboot=k panic=1";

    private static byte[] Initrd(int length)
    {
        var initrd = new byte[length];
        new Random(length).NextBytes(initrd);
        return initrd;
    }

    [Fact]
    public void ZeroPageFieldsAfterLoadingABzImage()
    {
        var kernel = KernelImage.Parse(BzImage("gzip", SmallElf()), "vmlinuz");
        using var memory = GuestMemory.CreateFlat(64 * MiB);
        var initrd = Initrd(1_000_000);

        var info = LinuxLoader.Load(memory, kernel, initrd, CommandLine, 2);

        Assert.Equal(KernelBase, info.Entry);
        Assert.Equal(0x7000ul, info.ZeroPage);
        Assert.Equal(0x8FF0ul, info.StackPointer);
        Assert.Equal(0x9000ul, info.PageTableRoot);
        Assert.Equal(Gdt.Code, info.Code);
        Assert.Equal(Gdt.GdtTable, info.Gdt);

        var zp = memory.Read<BootParams>(new GuestAddress(0x7000));
        Assert.Equal(0xAA55, zp.Hdr.BootFlag);
        Assert.Equal(0x5372_6448u, zp.Hdr.Header);
        Assert.Equal(0x020F, zp.Hdr.Version);                       // copied from the image
        Assert.Equal(0x7FFu, zp.Hdr.CmdlineSize);
        Assert.Equal(0x7Fu, zp.Hdr.XLoadFlags);
        Assert.Equal(0xFF, zp.Hdr.TypeOfLoader);
        Assert.Equal(0x81, zp.Hdr.LoadFlags);                       // LOADED_HIGH from the image | CAN_USE_HEAP
        Assert.Equal(0xFE00, zp.Hdr.HeapEndPtr);
        Assert.Equal(0x20000u, zp.Hdr.CmdLinePtr);
        Assert.Equal((uint)info.InitrdRange!.Value.Start, zp.Hdr.RamdiskImage);
        Assert.Equal((uint)initrd.Length, zp.Hdr.RamdiskSize);
        Assert.Equal(0, zp.Sentinel);
        Assert.Equal(3, zp.E820Entries);
        Assert.Equal(new E820Entry(0x100000, (64 * MiB) - 0x100000, E820Entry.Ram), zp.E820Table[2]);

        // The same facts at the raw offsets boot.rst and zero-page.rst give.
        var raw = new byte[4096];
        memory.Read(new GuestAddress(0x7000), raw);
        Assert.Equal(0xFF, raw[0x210]);
        Assert.Equal(0x81, raw[0x211]);
        Assert.Equal(0x20000, BitConverter.ToInt32(raw, 0x228));
        Assert.Equal(initrd.Length, BitConverter.ToInt32(raw, 0x21C));
        Assert.Equal(3, raw[0x1E8]);
        Assert.Equal(0x9FC00ul, BitConverter.ToUInt64(raw, 0x2D0 + 20));
        Assert.Equal(2u, BitConverter.ToUInt32(raw, 0x2D0 + 20 + 16));

        var cmdline = new byte[CommandLine.Length + 1];
        memory.Read(new GuestAddress(0x20000), cmdline);
        Assert.Equal(Encoding.ASCII.GetBytes(CommandLine + "\0"), cmdline);
        Assert.Equal(new PhysicalRange(0x20000, 0x20000 + (ulong)cmdline.Length), info.CommandLine);

        Assert.Equal(0xA003ul, memory.Read<ulong>(new GuestAddress(0x9000)));
        Assert.Equal(0x00AF_9B00_0000_FFFFul, memory.Read<ulong>(new GuestAddress(0x508)));
        Assert.Equal(0x5F50_4D5Fu, memory.Read<uint>(new GuestAddress(0x9FC00)));
    }

    [Fact]
    public void TheZeroPageChainsOneFreshRngSeedNodeAsSetupData()
    {
        var kernel = KernelImage.Parse(BzImage("gzip", SmallElf()), "vmlinuz");
        byte[] Seed()
        {
            using var memory = GuestMemory.CreateFlat(64 * MiB);
            LinuxLoader.Load(memory, kernel, [], CommandLine, 1);
            var raw = new byte[4096];
            memory.Read(new GuestAddress(0x7000), raw);
            ulong node = BitConverter.ToUInt64(raw, 0x250); // hdr.setup_data
            Assert.Equal(0x20800ul, node);                   // after the command line's 2 KiB
            var header = new byte[16 + 32];
            memory.Read(new GuestAddress(node), header);
            Assert.Equal(0ul, BitConverter.ToUInt64(header, 0)); // next: the only node
            Assert.Equal(9u, BitConverter.ToUInt32(header, 8));  // SETUP_RNG_SEED
            Assert.Equal(32u, BitConverter.ToUInt32(header, 12));
            return header[16..];
        }
        var first = Seed();
        var second = Seed();
        Assert.NotEqual(new byte[32], first);
        Assert.NotEqual(first, second); // fresh randomness per boot, never a constant
    }

    [Fact]
    public void InitrdGoesPageAlignedToTheTopOfLowRamAboveTheKernel()
    {
        var kernel = KernelImage.Parse(SmallElf(), "vmlinux");
        using var memory = GuestMemory.CreateFlat(64 * MiB);
        var initrd = Initrd(3 * 1024 * 1024 + 17);

        var info = LinuxLoader.Load(memory, kernel, initrd, "", 1);

        var range = Assert.NotNull(info.InitrdRange);
        Assert.Equal(0ul, range.Start % 4096);
        Assert.Equal((64 * MiB - (ulong)initrd.Length) & ~4095ul, range.Start);
        Assert.True(range.Start >= info.KernelRange.End);
        Assert.True(range.End <= 64 * MiB);
        var loaded = new byte[initrd.Length];
        memory.Read(new GuestAddress(range.Start), loaded);
        Assert.Equal(initrd, loaded);
    }

    [Fact]
    public void InitrdStaysBelowInitrdAddrMax()
    {
        var image = BzImage("zstd", SmallElf());
        Put32(image, 0x22C, 0x2FF_FFFF); // highest initrd byte at 48 MiB - 1
        var kernel = KernelImage.Parse(image);
        using var memory = GuestMemory.CreateFlat(128 * MiB);
        var info = LinuxLoader.Load(memory, kernel, Initrd(5000), "", 1);
        Assert.True(info.InitrdRange!.Value.End <= 0x300_0000);
        Assert.Equal(0x300_0000ul - 8192, info.InitrdRange.Value.Start);
    }

    [Fact]
    public void ElfKernelGetsASynthesisedHeader()
    {
        var kernel = KernelImage.Parse(SmallElf(), "vmlinux");
        using var memory = GuestMemory.CreateFlat(64 * MiB);
        var info = LinuxLoader.Load(memory, kernel, [], "quiet", 1);
        Assert.Null(info.InitrdRange);
        var zp = memory.Read<BootParams>(new GuestAddress(0x7000));
        Assert.Equal(0xAA55, zp.Hdr.BootFlag);
        Assert.Equal(0x5372_6448u, zp.Hdr.Header);
        Assert.Equal(0x020C, zp.Hdr.Version);
        Assert.Equal(0x100_0000u, zp.Hdr.KernelAlignment);
        Assert.Equal(0xFF, zp.Hdr.TypeOfLoader);
        Assert.Equal(0x80, zp.Hdr.LoadFlags);
        Assert.Equal(0u, zp.Hdr.RamdiskImage);
        Assert.Equal(0u, zp.Hdr.RamdiskSize);
    }

    [Fact]
    public void EmptyInitrdIsRefusedWhenOneWasGiven()
    {
        var kernel = KernelImage.Parse(SmallElf());
        using var memory = GuestMemory.CreateFlat(64 * MiB);
        var e = Assert.Throws<BootException>(() => LinuxLoader.Load(memory, kernel, [], "", 1, new LoadOptions { InitrdName = "initrd.img" }));
        Assert.Equal("initrd initrd.img is empty (0 bytes)", e.Message);

        string path = Path.GetTempFileName();
        try
        {
            Assert.Contains("is empty", Assert.Throws<BootException>(() => LinuxLoader.ReadInitrd(path)).Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void InitrdThatDoesNotFitSaysHowMuchMemoryIsNeeded()
    {
        var kernel = KernelImage.Parse(SmallElf());
        using var memory = GuestMemory.CreateFlat(64 * MiB);
        var e = Assert.Throws<BootException>(() => LinuxLoader.Load(memory, kernel, Initrd(60 << 20), "", 1, new LoadOptions { InitrdName = "big.cpio" }));
        Assert.Contains("initrd big.cpio (60 MiB)", e.Message, StringComparison.Ordinal);
        Assert.Contains("use --memory 192M", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CommandLineLongerThanCmdlineSizeIsRefused()
    {
        var image = BzImage("gzip", SmallElf());
        Put32(image, 0x238, 16);
        var kernel = KernelImage.Parse(image, "vmlinuz");
        using var memory = GuestMemory.CreateFlat(64 * MiB);
        LinuxLoader.Load(memory, kernel, [], new string('a', 16), 1);
        var e = Assert.Throws<BootException>(() => LinuxLoader.Load(memory, kernel, [], new string('a', 17), 1));
        Assert.Equal("the kernel command line is 17 bytes; vmlinuz accepts at most 16", e.Message);
    }

    [Fact]
    public void CommandLineIsCappedByTheLoadersBufferToo()
    {
        var kernel = KernelImage.Parse(SmallElf(), "vmlinux");
        using var memory = GuestMemory.CreateFlat(64 * MiB);
        LinuxLoader.Load(memory, kernel, [], new string('a', 2047), 1);
        Assert.Throws<BootException>(() => LinuxLoader.Load(memory, kernel, [], new string('a', 2048), 1));
        Assert.Throws<BootException>(() => LinuxLoader.Load(memory, kernel, [], "a\0b", 1));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(255)]
    public void CpuCountIsChecked(int cpus)
    {
        var kernel = KernelImage.Parse(SmallElf());
        using var memory = GuestMemory.CreateFlat(64 * MiB);
        Assert.Throws<BootException>(() => LinuxLoader.Load(memory, kernel, [], "", cpus));
    }

    [Fact]
    public void GuestMemoryMustCoverTheFirstMiB()
    {
        var kernel = KernelImage.Parse(SmallElf());
        using var memory = GuestMemory.Create([(new GuestAddress(MiB), 64 * MiB)]);
        Assert.Contains("first MiB", Assert.Throws<BootException>(() => LinuxLoader.Load(memory, kernel, [], "", 1)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KernelBeyondGuestMemoryIsRefusedBeforeAnythingIsWritten()
    {
        var kernel = KernelImage.Parse(SmallElf());
        using var memory = GuestMemory.CreateFlat(16 * MiB);
        var e = Assert.Throws<BootException>(() => LinuxLoader.Load(memory, kernel, [], "", 1));
        Assert.StartsWith("kernel needs memory up to 0x1020000, but the guest has 0x1000000; use --memory", e.Message, StringComparison.Ordinal);
        Assert.Equal(0ul, memory.Read<ulong>(new GuestAddress(BootLayout.Pml4)));
    }

    [Fact]
    public void ExplicitRamLayoutAndPciRoutesAreUsed()
    {
        var kernel = KernelImage.Parse(SmallElf());
        using var memory = GuestMemory.CreateFlat(64 * MiB);
        var info = LinuxLoader.Load(memory, kernel, [], "", 1, new LoadOptions
        {
            Ram = [new PhysicalRange(0, 48 * MiB)],
            PciInterruptRoutes = [new PciInterruptRoute(1, 0, 16)],
        });
        Assert.Equal(48 * MiB, info.E820[^1].End);
        Assert.Equal(16 + 44 + 20 + (8 * (2 + 1 + 16 + 1 + 2)), (int)info.MpTable.Length);
    }
}
