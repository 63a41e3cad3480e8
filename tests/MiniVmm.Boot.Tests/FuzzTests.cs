using System.Text;
using static MiniVmm.Boot.Tests.TestImages;

namespace MiniVmm.Boot.Tests;

/// <summary>
/// Parsing arbitrary bytes must either succeed or throw BootException: never IndexOutOfRange,
/// InvalidData, a library's own exception, or a hang. Seeds are fixed so failures reproduce.
/// </summary>
public sealed class FuzzTests
{
    private static void ParseOrBootException(byte[] input)
    {
        try
        {
            _ = KernelImage.Parse(input, "fuzz");
        }
        catch (BootException e)
        {
            Assert.DoesNotContain('\n', e.Message);
        }
    }

    [Fact]
    public void RandomBytes()
    {
        var random = new Random(1234);
        for (int i = 0; i < 400; i++)
        {
            var input = new byte[random.Next(0, 4096)];
            random.NextBytes(input);
            if (i % 4 == 1 && input.Length > 0x270)
            {
                // Plant the magics so the bzImage path, not just the "not a kernel" path, sees random fields.
                Put16(input, 0x1FE, 0xAA55);
                Put32(input, 0x202, 0x5372_6448);
                Put16(input, 0x206, 0x020F);
                Put16(input, 0x236, 0x01);
            }
            if (i % 4 == 2)
                "\x7FELF\x02\x01"u8.CopyTo(input.AsSpan(0, Math.Min(6, input.Length)));
            ParseOrBootException(input);
        }
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("zstd")]
    [InlineData("lz4")]
    [InlineData("xz")]
    public void EveryTruncationOfARealImage(string compression)
    {
        var image = compression == "xz" ? BzImage(WithSizeTrailer(XzVector.Compressed, XzVector.ElfLength)) : BzImage(compression, SmallElf(8 << 10));
        int payloadEnd = image.Length - 16;
        for (int length = 0; length < payloadEnd; length += length < 0x300 ? 1 : 97)
            Assert.Throws<BootException>(() => KernelImage.Parse(image.AsMemory(0, length), "cut"));
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("zstd")]
    [InlineData("lz4")]
    [InlineData("xz")]
    public void ByteFlipsInHeaderAndPayload(string compression)
    {
        var original = compression == "xz" ? BzImage(WithSizeTrailer(XzVector.Compressed, XzVector.ElfLength)) : BzImage(compression, SmallElf(8 << 10));
        var random = new Random(compression.Length * 31);
        for (int i = 0; i < 300; i++)
        {
            var image = (byte[])original.Clone();
            int flips = random.Next(1, 8);
            for (int f = 0; f < flips; f++)
            {
                // Half the flips hit the setup header, half the payload.
                int at = random.Next(2) == 0 ? random.Next(0x1F1, 0x26C) : random.Next(ProtectedModeStart + PayloadOffset, image.Length);
                image[at] = (byte)random.Next(256);
            }
            ParseOrBootException(image);
        }
    }

    [Fact]
    public void ByteFlipsInElfHeaders()
    {
        var original = SmallElf(4096);
        var random = new Random(99);
        for (int i = 0; i < 2000; i++)
        {
            var elf = (byte[])original.Clone();
            int at = random.Next(0, 120);
            elf[at] = (byte)random.Next(256);
            ParseOrBootException(elf);
        }
    }

    [Fact]
    public void TextFilesOfManySizes()
    {
        for (int length = 0; length < 2000; length += 37)
            Assert.Throws<BootException>(() => KernelImage.Parse(Encoding.ASCII.GetBytes(new string('k', length)), "kernel.txt"));
    }
}
