using Xunit.Abstractions;
using static MiniVmm.Boot.Tests.TestImages;

namespace MiniVmm.Boot.Tests;

/// <summary>Each payload decompressor against real compressed streams, with the kernel's trailing size and junk after it.</summary>
public sealed class DecompressionTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("gzip")]
    [InlineData("zstd")]
    [InlineData("lz4")]
    public void InProcessCompressorsRoundTrip(string compression)
    {
        var vmlinux = SmallElf(256 << 10);
        var kernel = KernelImage.Parse(BzImage(compression, vmlinux));
        Assert.Equal(compression, kernel.Compression);
        Assert.Equal(vmlinux, kernel.Vmlinux.ToArray());
    }

    /// <summary>The same formats as the command-line tools write them, as the kernel build does.</summary>
    [Theory]
    [InlineData("xz", "xz", "--format=xz --check=crc32 --x86 --lzma2=preset=6,pb=0 -c")]
    [InlineData("xz", "xz", "--format=xz --check=crc64 -c")]
    [InlineData("xz", "xz", "--format=xz --check=sha256 --x86 --lzma2 --block-size=100000 -c")]
    [InlineData("xz", "xz", "--format=xz --check=crc32 --lzma2=preset=6,lc=0,lp=2,pb=0 -c")]
    [InlineData("xz", "xz", "--format=xz --check=crc32 --lzma2=preset=1,lc=4,lp=0,pb=4,mf=hc3 -c")]
    [InlineData("xz", "xz", "--format=xz --check=none --x86 --lzma2=preset=9e -c")]
    [InlineData("gzip", "gzip", "-n -9 -c")]
    [InlineData("zstd", "zstd", "-19 -c")]
    [InlineData("lz4", "lz4", "-l -9 -c")]
    public void CommandLineCompressorsRoundTrip(string compression, string tool, string arguments)
    {
        if (!HasTool(tool))
        {
            // xunit 2 cannot skip at run time; the in-process theory and the xz vector still cover this format.
            output.WriteLine($"SKIPPED (loudly): '{tool}' is not on PATH, so '{tool} {arguments}' was not exercised");
            return;
        }
        var vmlinux = SmallElf(512 << 10);
        var payload = WithSizeTrailer(Tool(tool, arguments, vmlinux), vmlinux.Length);
        var kernel = KernelImage.Parse(BzImage(payload));
        Assert.Equal(compression, kernel.Compression);
        Assert.Equal(vmlinux, kernel.Vmlinux.ToArray());
    }

    /// <summary>Incompressible bytes make xz emit LZMA2 "stored" chunks (control 0x01/0x02) between LZMA chunks.</summary>
    [Fact]
    public void XzWithIncompressibleDataUsesStoredChunks()
    {
        if (!HasTool("xz"))
        {
            output.WriteLine("SKIPPED (loudly): 'xz' is not on PATH, so LZMA2 stored chunks were not exercised");
            return;
        }
        var noise = new byte[300_000];
        new Random(11).NextBytes(noise);
        byte[] mixed = [.. CodeLike(200_000, 4), .. noise, .. CodeLike(200_000, 5)];
        var vmlinux = Elf(KernelBase, new TestSegment(KernelBase, mixed, (ulong)mixed.Length));
        var compressed = Tool("xz", "--format=xz --check=crc32 --x86 --lzma2=preset=6 -c", vmlinux);
        var kernel = KernelImage.Parse(BzImage(WithSizeTrailer(compressed, vmlinux.Length)));
        Assert.Equal(vmlinux, kernel.Vmlinux.ToArray());
    }

    [Fact]
    public void Lz4LegacySpanningSeveralEightMiBBlocks()
    {
        var vmlinux = SmallElf((17 << 20) + 12345);
        var payload = Lz4Legacy(vmlinux);
        var kernel = KernelImage.Parse(BzImage(WithSizeTrailer(payload, vmlinux.Length)));
        Assert.Equal(vmlinux, kernel.Vmlinux.ToArray());
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("zstd")]
    [InlineData("lz4")]
    public void PayloadWithoutSizeTrailerStillWorks(string compression)
    {
        var vmlinux = SmallElf();
        var kernel = KernelImage.Parse(BzImage(Compress(compression, vmlinux)));
        Assert.Equal(vmlinux, kernel.Vmlinux.ToArray());
    }

    [Fact]
    public void XzWithoutSizeTrailerAndWithJunkAfterTheStream()
    {
        var junk = new byte[37];
        new Random(5).NextBytes(junk);
        var kernel = KernelImage.Parse(BzImage([.. XzVector.Compressed, .. junk]));
        Assert.Equal(XzVector.ElfLength, kernel.Vmlinux.Length);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("zstd")]
    [InlineData("lz4")]
    [InlineData("xz")]
    public void TruncatedPayloadIsCorrupt(string compression)
    {
        byte[] compressed = compression == "xz" ? XzVector.Compressed : Compress(compression, SmallElf());
        var e = Assert.Throws<BootException>(() => KernelImage.Parse(BzImage(compressed[..(compressed.Length / 2)], trailingBytes: 0)));
        Assert.Contains(compression, e.Message, StringComparison.Ordinal);
    }
}
