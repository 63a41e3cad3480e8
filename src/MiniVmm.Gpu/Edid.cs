namespace MiniVmm.Gpu;

/// <summary>
/// Builds a 128-byte EDID 1.4 base block (VESA E-EDID A2) for one preferred mode at 60 Hz. The detailed
/// timing uses CVT reduced blanking (VESA CVT 1.2, RB v1) so the pixel clock stays low; the active size is
/// exactly the requested width x height, not rounded to character cells, so the guest's preferred mode
/// matches the configured one.
/// </summary>
public static class Edid
{
    public const int BlockSize = 128;
    public const string ManufacturerId = "MVM";
    public const string MonitorName = "MiniVmm";
    public const ushort ProductCode = 0x0001;
    public const uint SerialNumber = 0x0000_0001;
    public const int RefreshHz = 60;
    public const int FallbackRefreshHz = 30;
    private const int MaxDescriptorClockKhz = 655_350;

    /// <summary>Physical size reported for the panel: 96 dots per inch.</summary>
    private const double DotsPerInch = 96;

    public static byte[] Build(int width, int height)
    {
        if (width is < GpuOptions.MinDimension or > GpuOptions.MaxDimension)
            throw new ArgumentOutOfRangeException(nameof(width));
        if (height is < GpuOptions.MinDimension or > GpuOptions.MaxDimension)
            throw new ArgumentOutOfRangeException(nameof(height));

        var edid = new byte[BlockSize];
        // 0-7: fixed header.
        ReadOnlySpan<byte> header = [0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00];
        header.CopyTo(edid);
        // 8-9: manufacturer id, three 5-bit letters ('A' = 1), big-endian.
        int letters = ((ManufacturerId[0] - '@') << 10) | ((ManufacturerId[1] - '@') << 5) | (ManufacturerId[2] - '@');
        edid[8] = (byte)(letters >> 8);
        edid[9] = (byte)letters;
        // 10-15: product code and serial number, little-endian.
        edid[10] = (byte)ProductCode;
        edid[11] = ProductCode >> 8;
        BitConverter.TryWriteBytes(edid.AsSpan(12, 4), SerialNumber);
        // 16-17: week 1 of 2025 (year is stored minus 1990).
        edid[16] = 1;
        edid[17] = 2025 - 1990;
        // 18-19: EDID 1.4.
        edid[18] = 1;
        edid[19] = 4;
        // 20: digital input, 8 bits per colour, DisplayPort interface.
        edid[20] = 0x80 | (0b010 << 4) | 0x5;
        // 21-22: screen size in cm.
        var (widthMm, heightMm) = (MillimetresAt96Dpi(width), MillimetresAt96Dpi(height));
        edid[21] = (byte)Math.Clamp((widthMm + 5) / 10, 1, 255);
        edid[22] = (byte)Math.Clamp((heightMm + 5) / 10, 1, 255);
        // 23: gamma 2.2 stored as (gamma * 100) - 100.
        edid[23] = 120;
        // 24: RGB 4:4:4, sRGB is the default colour space (bit 2), preferred timing is native (bit 1).
        edid[24] = 0x06;
        WriteSrgbChromaticity(edid.AsSpan(25, 10));
        // 35-37: no established timings. 38-53: unused standard timings are 01 01.
        for (int i = 38; i < 54; i++)
            edid[i] = 0x01;

        // The descriptor's pixel clock is 16 bits of 10 kHz: modes too big for it at 60 Hz are offered at 30 Hz.
        var timing = CvtTiming.ReducedBlanking(width, height, RefreshHz);
        if (timing.PixelClockKhz > MaxDescriptorClockKhz)
            timing = CvtTiming.ReducedBlanking(width, height, FallbackRefreshHz);
        timing.WriteDetailedDescriptor(edid.AsSpan(54, 18), widthMm, heightMm);
        WriteRangeLimits(edid.AsSpan(72, 18), timing);
        WriteText(edid.AsSpan(90, 18), 0xFC, MonitorName);
        WriteDummy(edid.AsSpan(108, 18));
        edid[126] = 0; // no extension blocks
        edid[127] = Checksum(edid.AsSpan(0, 127));
        return edid;
    }

    /// <summary>The byte that makes the block sum to 0 mod 256.</summary>
    public static byte Checksum(ReadOnlySpan<byte> bytes)
    {
        int sum = 0;
        foreach (byte b in bytes)
            sum += b;
        return (byte)(256 - (sum & 0xFF));
    }

    private static int MillimetresAt96Dpi(int pixels) => (int)Math.Round(pixels * 25.4 / DotsPerInch);

    private static void WriteSrgbChromaticity(Span<byte> target)
    {
        // sRGB primaries and D65 white point as 10-bit binary fractions.
        int rx = Fraction(0.640), ry = Fraction(0.330), gx = Fraction(0.300), gy = Fraction(0.600);
        int bx = Fraction(0.150), by = Fraction(0.060), wx = Fraction(0.3127), wy = Fraction(0.3290);
        target[0] = (byte)(((rx & 3) << 6) | ((ry & 3) << 4) | ((gx & 3) << 2) | (gy & 3));
        target[1] = (byte)(((bx & 3) << 6) | ((by & 3) << 4) | ((wx & 3) << 2) | (wy & 3));
        int[] high = [rx, ry, gx, gy, bx, by, wx, wy];
        for (int i = 0; i < high.Length; i++)
            target[2 + i] = (byte)(high[i] >> 2);

        static int Fraction(double value) => (int)Math.Round(value * 1024);
    }

    private static void WriteRangeLimits(Span<byte> d, CvtTiming timing)
    {
        d[3] = 0xFD;
        double hFreqKhz = timing.PixelClockKhz / (double)timing.HTotal;
        d[5] = (byte)Math.Min(50, timing.RefreshHz); // min vertical Hz
        d[6] = 75; // max vertical Hz
        d[7] = (byte)Math.Clamp((int)Math.Floor(hFreqKhz) - 1, 1, 30);
        d[8] = (byte)Math.Clamp((int)Math.Ceiling(hFreqKhz * 75 / timing.RefreshHz) + 1, 80, 255);
        // Max pixel clock in units of 10 MHz, rounded up.
        d[9] = (byte)Math.Clamp(((long)timing.PixelClockKhz * 75 / timing.RefreshHz + 9999) / 10000, 1, 255);
        d[10] = 0x01; // range limits only, no secondary timing formula
        d[11] = 0x0A;
        for (int i = 12; i < 18; i++)
            d[i] = 0x20;
    }

    private static void WriteText(Span<byte> d, byte tag, string text)
    {
        d[3] = tag;
        for (int i = 0; i < 13; i++)
            d[5 + i] = i < text.Length ? (byte)text[i] : i == text.Length ? (byte)0x0A : (byte)0x20;
    }

    private static void WriteDummy(Span<byte> d) => d[3] = 0x10;
}
