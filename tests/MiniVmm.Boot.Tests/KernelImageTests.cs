using System.Security.Cryptography;
using System.Text;
using static MiniVmm.Boot.Tests.TestImages;

namespace MiniVmm.Boot.Tests;

public sealed class KernelImageTests
{
    [Fact]
    public void ParsesSyntheticBzImageHeader()
    {
        var vmlinux = SmallElf();
        var kernel = KernelImage.Parse(BzImage("gzip", vmlinux), "vmlinuz-test");

        Assert.Equal(KernelFormat.BzImage, kernel.Format);
        Assert.Equal(0x020F, kernel.BootProtocolVersion);
        Assert.Equal("gzip", kernel.Compression);
        Assert.Equal(vmlinux, kernel.Vmlinux.ToArray());
        Assert.Equal(KernelBase, kernel.Entry);
        Assert.Equal(KernelVersionString, kernel.KernelVersion);
        Assert.Equal(0x26C - 0x1F1, kernel.SetupHeaderBytes.Length);
        var header = Assert.NotNull(kernel.Header);
        Assert.Equal(SetupSects, header.SetupSects);
        Assert.Equal((uint)PayloadOffset, header.PayloadOffset);
        Assert.Equal(0x3F9_8000u, header.InitSize);
        Assert.Equal(KernelBase, header.PrefAddress);
        Assert.Equal(0x20_0000u, header.KernelAlignment);
        Assert.Equal(1, header.RelocatableKernel);
        Assert.Equal(0x7Fu, header.XLoadFlags);
        Assert.Equal(0x7FF, kernel.CommandLineMax);
        Assert.Equal(0x7FFF_FFFFul, kernel.InitrdAddressMax);
    }

    [Fact]
    public void SetupSectsZeroMeansFour()
    {
        var image = BzImage("gzip", SmallElf());
        image[0x1F1] = 0; // the payload sits after 4 + 1 sectors, exactly where SetupSects = 4 put it
        Assert.Equal(KernelFormat.BzImage, KernelImage.Parse(image).Format);
    }

    [Fact]
    public void ParsesPlainElf()
    {
        var elf = SmallElf();
        var kernel = KernelImage.Parse(elf, "vmlinux");
        Assert.Equal(KernelFormat.Elf, kernel.Format);
        Assert.Equal("none", kernel.Compression);
        Assert.Equal(0, kernel.BootProtocolVersion);
        Assert.Null(kernel.Header);
        Assert.True(kernel.SetupHeaderBytes.IsEmpty);
        Assert.Equal(KernelBase, kernel.Entry);
        Assert.Equal(2047, kernel.CommandLineMax);
        var segment = Assert.Single(kernel.Elf.Segments);
        Assert.Equal(KernelBase, segment.PhysicalAddress);
    }

    [Fact]
    public void UncompressedPayloadIsAccepted()
    {
        var kernel = KernelImage.Parse(BzImage("none", SmallElf()));
        Assert.Equal("none", kernel.Compression);
    }

    [Fact]
    public void ElfEntryGivenAsVirtualAddressIsTranslated()
    {
        var elf = Elf(0xFFFF_FFFF_8100_0010, new TestSegment(KernelBase, new byte[64], 64, 0xFFFF_FFFF_8100_0000));
        Assert.Equal(KernelBase + 0x10, KernelImage.Parse(elf).Entry);
    }

    [Fact]
    public void LoadReadsFilesAndNamesThemInErrors()
    {
        string path = Path.Combine(Path.GetTempPath(), $"minivmm-kernel-{Guid.NewGuid():N}.txt");
        File.WriteAllText(path, "this is not a kernel\n");
        try
        {
            var e = Assert.Throws<BootException>(() => KernelImage.Load(path));
            Assert.Equal($"{Path.GetFileName(path)} is not a Linux kernel: no bzImage header (HdrS) and no ELF magic", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Throws<BootException>(() => KernelImage.Load(path + ".missing"));
    }

    public static TheoryData<string, string> MalformedInputs => new()
    {
        { "empty", "is empty" },
        { "text", "is not a Linux kernel: no bzImage header (HdrS) and no ELF magic" },
        { "truncated-header", "truncated" },
        { "truncated-mz", "truncated" },
        { "bad-boot-flag", "boot_flag" },
        { "protocol-2.11", "boot protocol 2.11; MiniVmm needs 2.12" },
        { "32-bit-only", "32-bit-only" },
        { "header-too-short", "setup header that ends at" },
        { "payload-past-eof", "payload" },
        { "payload-offset-past-eof", "payload" },
        { "payload-empty", "payload" },
        { "setup-sects-past-eof", "payload" },
        { "corrupt-gzip", "corrupt gzip payload" },
        { "corrupt-zstd", "corrupt zstd payload" },
        { "corrupt-lz4", "corrupt lz4 payload" },
        { "corrupt-xz", "corrupt xz payload" },
        { "lzma", "lzma compression" },
        { "bzip2", "bzip2 compression" },
        { "lzo", "lzo compression" },
        { "unknown-compression", "unknown compression" },
        { "payload-not-elf", "not an ELF vmlinux" },
        { "elf-32", "32-bit ELF" },
        { "elf-arm64", "not x86-64" },
        { "elf-truncated", "truncated" },
        { "elf-segment-past-eof", "run past the end of the file" },
        { "elf-segment-below-1mib", "outside" },
        { "elf-segment-above-4gib", "outside" },
        { "elf-overlap", "overlapping" },
        { "elf-entry-outside", "entry point" },
        { "elf-no-load", "no loadable" },
    };

    [Theory]
    [MemberData(nameof(MalformedInputs))]
    public void MalformedInputThrowsBootExceptionNamingTheProblem(string kind, string fragment)
    {
        var e = Assert.Throws<BootException>(() => KernelImage.Parse(Malformed(kind), "bad-kernel"));
        Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        Assert.StartsWith("bad-kernel", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    private static byte[] Malformed(string kind)
    {
        var good = BzImage("gzip", SmallElf());
        int payloadStart = ProtectedModeStart + PayloadOffset;
        switch (kind)
        {
            case "empty": return [];
            case "text": return Encoding.ASCII.GetBytes("console=ttyS0 root=/dev/vda\nnot a kernel at all\n");
            case "truncated-header": return good[..0x240];
            case "truncated-mz": return good[..0x100];
            case "bad-boot-flag": Put16(good, 0x1FE, 0x1234); return good;
            case "protocol-2.11": Put16(good, 0x206, 0x020B); return good;
            case "32-bit-only": Put16(good, 0x236, 0x7E); return good;
            case "header-too-short": good[0x201] = 0x40; return good;
            case "payload-past-eof": Put32(good, 0x24C, (uint)good.Length); return good;
            case "payload-offset-past-eof": Put32(good, 0x248, 0xFFFF_FF00); return good;
            case "payload-empty": Put32(good, 0x24C, 0); return good;
            case "setup-sects-past-eof": good[0x1F1] = 0xFF; return good[..0x2000];
            case "corrupt-gzip": Scribble(good, payloadStart + 40, 64); return good;
            case "corrupt-zstd": return Scribbled(BzImage("zstd", SmallElf()), payloadStart + 40, 64);
            case "corrupt-lz4": return Scribbled(BzImage("lz4", SmallElf()), payloadStart + 40, 64);
            case "corrupt-xz": return Scribbled(BzImage(WithSizeTrailer(XzVector.Compressed, XzVector.ElfLength)), payloadStart + 100, 16);
            case "lzma": return BzImage([0x5D, 0x00, 0x00, 0x80, 0x00, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4]);
            case "bzip2": return BzImage("BZh91AY&SY...."u8.ToArray());
            case "lzo": return BzImage([0x89, 0x4C, 0x5A, 0x4F, 0x00, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0]);
            case "unknown-compression": return BzImage("PK\x03\x04 zip is not a kernel format"u8.ToArray());
            case "payload-not-elf": return BzImage("gzip", Encoding.ASCII.GetBytes(new string('x', 5000)));
            case "elf-32": { var e = SmallElf(); e[4] = 1; return e; }
            case "elf-arm64": { var e = SmallElf(); e[18] = 183; return e; }
            case "elf-truncated": return SmallElf()[..40];
            case "elf-segment-past-eof": return SmallElf()[..1000];
            case "elf-segment-below-1mib": return Elf(0x8000, new TestSegment(0x8000, new byte[16], 16));
            case "elf-segment-above-4gib": return Elf(0xFFFF_F000, new TestSegment(0xFFFF_F000, new byte[16], 0x2000));
            case "elf-overlap": return Elf(KernelBase, new TestSegment(KernelBase, new byte[16], 0x2000), new TestSegment(KernelBase + 0x1000, new byte[16], 16));
            case "elf-entry-outside": return Elf(0x5000_0000, new TestSegment(KernelBase, new byte[16], 16));
            case "elf-no-load": { var e = SmallElf(); e[64] = 4; return e; } // PT_NOTE
            default: throw new ArgumentException(kind);
        }
    }

    private static void Scribble(byte[] image, int offset, int count) => new Random(3).NextBytes(image.AsSpan(offset, count));

    private static byte[] Scribbled(byte[] image, int offset, int count)
    {
        Scribble(image, offset, count);
        return image;
    }

    [Fact]
    public void XzVectorWithX86FilterUnpacksToTheOriginalElf()
    {
        var kernel = KernelImage.Parse(BzImage(WithSizeTrailer(XzVector.Compressed, XzVector.ElfLength)));
        Assert.Equal("xz", kernel.Compression);
        Assert.Equal(XzVector.ElfLength, kernel.Vmlinux.Length);
        Assert.Equal(XzVector.ElfSha256, Convert.ToHexStringLower(SHA256.HashData(kernel.Vmlinux.Span)));
        var segment = Assert.Single(kernel.Elf.Segments);
        Assert.Equal(XzVector.SegmentFileSize, segment.FileSize);
        Assert.Equal(XzVector.SegmentMemorySize, segment.MemorySize);
        Assert.Equal(KernelBase, kernel.Entry);
    }
}
