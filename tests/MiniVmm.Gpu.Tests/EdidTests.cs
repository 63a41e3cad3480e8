using System.Text;

namespace MiniVmm.Gpu.Tests;

public sealed class EdidTests
{
    /// <summary>Decodes the preferred (first detailed) timing the way a guest's EDID parser does.</summary>
    internal static (int Width, int Height, int ClockKhz, int HTotal, int VTotal) PreferredMode(byte[] edid)
    {
        var d = edid.AsSpan(54, 18);
        int clock = (d[0] | (d[1] << 8)) * 10;
        int hActive = d[2] | ((d[4] >> 4) << 8);
        int hBlank = d[3] | ((d[4] & 0xF) << 8);
        int vActive = d[5] | ((d[7] >> 4) << 8);
        int vBlank = d[6] | ((d[7] & 0xF) << 8);
        return (hActive, vActive, clock, hActive + hBlank, vActive + vBlank);
    }

    [Theory]
    [InlineData(1024, 768)]
    [InlineData(1920, 1080)]
    [InlineData(1280, 800)]
    [InlineData(640, 480)]
    [InlineData(3840, 2160)]
    [InlineData(4095, 4095)]
    [InlineData(16, 16)]
    [InlineData(1366, 768)]
    public void BaseBlockIsValidAndDecodesBackToTheMode(int width, int height)
    {
        byte[] edid = Edid.Build(width, height);
        Assert.Equal(128, edid.Length);
        Assert.Equal([0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00], edid[..8]);
        Assert.Equal(0, edid.Sum(b => b) % 256);
        Assert.Equal(1, edid[18]);
        Assert.Equal(4, edid[19]);
        Assert.True((edid[20] & 0x80) != 0, "digital input");

        var mode = PreferredMode(edid);
        Assert.Equal((width, height), (mode.Width, mode.Height));
        double refresh = mode.ClockKhz * 1000.0 / (mode.HTotal * (double)mode.VTotal);
        Assert.InRange(refresh, 29, 61);
        if (width * height <= 3840 * 2160)
            Assert.InRange(refresh, 59, 61);
    }

    [Fact]
    public void ManufacturerAndDescriptorsAreThere()
    {
        byte[] edid = Edid.Build(1024, 768);
        int id = (edid[8] << 8) | edid[9];
        string manufacturer = new([(char)('@' + ((id >> 10) & 31)), (char)('@' + ((id >> 5) & 31)), (char)('@' + (id & 31))]);
        Assert.Equal("MVM", manufacturer);

        // Descriptors 2..4: range limits (0xFD), monitor name (0xFC), dummy (0x10).
        Assert.Equal(0xFD, edid[72 + 3]);
        Assert.Equal(0xFC, edid[90 + 3]);
        Assert.Equal("MiniVmm", Encoding.ASCII.GetString(edid, 90 + 5, 13).Split('\n')[0]);
        Assert.Equal(0x10, edid[108 + 3]);
        Assert.Equal(0, edid[126]);
    }

    [Fact]
    public void CvtReducedBlankingMatchesTheVesaTableFor1920x1080()
    {
        // VESA DMT lists 1920x1080@60 CVT-RB as 138.5 MHz, 2080 x 1111 total.
        var timing = CvtTiming.ReducedBlanking(1920, 1080, 60);
        Assert.Equal(138_500, timing.PixelClockKhz);
        Assert.Equal(2080, timing.HTotal);
        Assert.Equal(1111, timing.VTotal);
        Assert.Equal(5, timing.VSync); // 16:9
    }

    [Fact]
    public void RangeLimitsCoverThePreferredMode()
    {
        byte[] edid = Edid.Build(1920, 1080);
        var mode = PreferredMode(edid);
        double hFreqKhz = mode.ClockKhz / (double)mode.HTotal;
        Assert.InRange(hFreqKhz, edid[72 + 7], edid[72 + 8]);
        Assert.InRange(60, edid[72 + 5], edid[72 + 6]);
        Assert.True(edid[72 + 9] * 10_000 >= mode.ClockKhz);
    }
}
