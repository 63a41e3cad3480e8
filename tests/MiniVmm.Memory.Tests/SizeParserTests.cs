namespace MiniVmm.Memory.Tests;

public sealed class SizeParserTests
{
    [Theory]
    [InlineData("1024", SizeParser.MiB, 1UL << 30)]   // a bare number counts the caller's unit: MiB for --memory
    [InlineData("4096", SizeParser.Bytes, 4096UL)]    // and bytes for hostmem
    [InlineData("512M", SizeParser.Bytes, 512UL << 20)]
    [InlineData("512m", SizeParser.MiB, 512UL << 20)]
    [InlineData("512Mi", SizeParser.MiB, 512UL << 20)]
    [InlineData("512MiB", SizeParser.MiB, 512UL << 20)]
    [InlineData("512MB", SizeParser.MiB, 512UL << 20)]
    [InlineData("2Gi", SizeParser.MiB, 2UL << 30)]
    [InlineData("64K", SizeParser.MiB, 64UL << 10)]
    [InlineData("1T", SizeParser.Bytes, 1UL << 40)]
    [InlineData("4096B", SizeParser.MiB, 4096UL)]
    [InlineData(" 2G ", SizeParser.MiB, 2UL << 30)]
    [InlineData("0", SizeParser.MiB, 0UL)]
    public void ParsesSizes(string text, ulong bareUnit, ulong expected)
    {
        Assert.True(SizeParser.TryParse(text, bareUnit, out ulong bytes), text);
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("M")]
    [InlineData("1.5G")]
    [InlineData("-1")]
    [InlineData("12X")]
    [InlineData("12i")]
    [InlineData("12GG")]
    [InlineData("12GiBs")]
    [InlineData("99999999999999999999")]
    [InlineData("17179869184G")]  // 2^34 GiB = 2^64 bytes: one past the largest
    [InlineData("17592186044416")] // 2^44 MiB as a bare number, the same overflow
    public void RefusesWhatIsNotASize(string text) => Assert.False(SizeParser.TryParse(text, SizeParser.MiB, out _), text);

    [Theory]
    [InlineData(512UL << 20, "512M")]
    [InlineData(2UL << 30, "2G")]
    [InlineData(64UL << 10, "64K")]
    [InlineData(1000UL, "1000")]
    public void FormatsWhatItParses(ulong bytes, string text)
    {
        Assert.Equal(text, SizeParser.Format(bytes));
        Assert.True(SizeParser.TryParse(text, SizeParser.Bytes, out ulong back));
        Assert.Equal(bytes, back);
    }
}
