namespace MiniVmm.Wayland.Tests.Scanout;

public sealed class PixelTests
{
    // One pixel with R=0x11 G=0x22 B=0x33 A/X=0x44, as each format lays it out in memory.
    [Theory]
    [InlineData(PixelFormat.Bgrx, "33221144")]
    [InlineData(PixelFormat.Bgra, "33221144")]
    [InlineData(PixelFormat.Rgbx, "11223344")]
    [InlineData(PixelFormat.Rgba, "11223344")]
    [InlineData(PixelFormat.Xrgb, "44112233")]
    [InlineData(PixelFormat.Argb, "44112233")]
    [InlineData(PixelFormat.Xbgr, "44332211")]
    [InlineData(PixelFormat.Abgr, "44332211")]
    public void ConvertsToXrgb8888(PixelFormat format, string pixel)
    {
        // 7 pixels: one vector of 4 plus a scalar tail of 3.
        var source = Enumerable.Repeat(Convert.FromHexString(pixel), 7).SelectMany(p => p).ToArray();
        var target = new byte[source.Length];
        PixelConverter.ConvertRow(source, target, 7, format);
        for (var i = 0; i < 7; i++)
            Assert.Equal("332211FF", Convert.ToHexString(target, i * 4, 4)); // X forced opaque
    }

    [Fact]
    public void AGuestsZeroXByteBecomesOpaque()
    {
        // Linux fbcon writes XRGB with X = 0; Weston's pixman renderer would show such a buffer as nothing.
        var source = new byte[] { 0x10, 0x20, 0x30, 0x00, 0x40, 0x50, 0x60, 0x00 };
        var target = new byte[8];
        PixelConverter.ConvertRow(source, target, 2, PixelFormat.Bgrx);
        Assert.Equal("102030FF405060FF", Convert.ToHexString(target));
    }

    [Fact]
    public void RectsIntersectAndUnion()
    {
        PixelRect a = (0, 0, 10, 10);
        Assert.Equal(new PixelRect(5, 5, 5, 5), a.Intersect((5, 5, 20, 20)));
        Assert.True(a.Intersect((10, 0, 5, 5)).IsEmpty);
        Assert.Equal(new PixelRect(0, 0, 30, 12), a.Union((20, 2, 10, 10)));
        Assert.Equal(a, PixelRect.Empty.Union(a));
        Assert.True(a.Intersect((int.MaxValue - 1, 0, int.MaxValue, 5)).IsEmpty);
    }
}
