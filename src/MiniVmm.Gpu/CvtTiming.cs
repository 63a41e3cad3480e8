namespace MiniVmm.Gpu;

/// <summary>
/// A display timing computed with VESA CVT 1.2 reduced blanking (v1): fixed 160-pixel horizontal blanking
/// (48 front porch, 32 sync, 80 back porch), a vertical blanking interval of at least 460 us, a 3-line
/// front porch, a sync width chosen by aspect ratio, and a pixel clock rounded down to 0.25 MHz.
/// Polarity: +hsync, -vsync.
/// </summary>
public readonly record struct CvtTiming(
    int HActive, int HFrontPorch, int HSync, int HBackPorch,
    int VActive, int VFrontPorch, int VSync, int VBackPorch,
    int PixelClockKhz, int RefreshHz)
{
    public int HTotal => HActive + HFrontPorch + HSync + HBackPorch;
    public int VTotal => VActive + VFrontPorch + VSync + VBackPorch;
    public int HBlank => HTotal - HActive;
    public int VBlank => VTotal - VActive;

    private const int RbHBlank = 160;
    private const int RbHSync = 32;
    private const int RbHFrontPorch = 48;
    private const double RbMinVBlankUs = 460;
    private const int RbVFrontPorch = 3;
    private const int RbMinVBackPorch = 6;
    private const int ClockStepKhz = 250;

    public static CvtTiming ReducedBlanking(int width, int height, int refreshHz)
    {
        int vSync = VSyncForAspect(width, height);
        double hPeriodEstimateUs = ((1_000_000.0 / refreshHz) - RbMinVBlankUs) / height;
        int vbiLines = (int)Math.Floor(RbMinVBlankUs / hPeriodEstimateUs) + 1;
        int vbi = Math.Max(vbiLines, RbVFrontPorch + vSync + RbMinVBackPorch);
        int vTotal = height + vbi;
        int hTotal = width + RbHBlank;
        double clockKhz = (double)refreshHz * vTotal * hTotal / 1000.0;
        int pixelClockKhz = (int)Math.Floor(clockKhz / ClockStepKhz) * ClockStepKhz;
        // Tiny modes run at a few MHz, where the 0.25 MHz step alone would move the refresh rate by more
        // than a percent: use the descriptor's own 10 kHz resolution instead.
        if (pixelClockKhz < clockKhz * 0.99)
            pixelClockKhz = (int)Math.Ceiling(clockKhz / 10) * 10;
        return new CvtTiming(width, RbHFrontPorch, RbHSync, RbHBlank - RbHFrontPorch - RbHSync,
            height, RbVFrontPorch, vSync, vbi - RbVFrontPorch - vSync, pixelClockKhz, refreshHz);
    }

    /// <summary>CVT encodes the aspect ratio in the vertical sync width: 4:3 4, 16:9 5, 16:10 6, 5:4 and 15:9 7, else 10.</summary>
    private static int VSyncForAspect(int width, int height)
    {
        if (IsAspect(width, height, 4, 3))
            return 4;
        if (IsAspect(width, height, 16, 9))
            return 5;
        if (IsAspect(width, height, 16, 10))
            return 6;
        if (IsAspect(width, height, 5, 4) || IsAspect(width, height, 15, 9))
            return 7;
        return 10;

        static bool IsAspect(int w, int h, int a, int b) => (long)w * b == (long)h * a;
    }

    /// <summary>Writes the 18-byte EDID detailed timing descriptor (E-EDID A2, 3.10.2).</summary>
    public void WriteDetailedDescriptor(Span<byte> d, int widthMm, int heightMm)
    {
        int clock = PixelClockKhz / 10; // units of 10 kHz
        d[0] = (byte)clock;
        d[1] = (byte)(clock >> 8);
        d[2] = (byte)HActive;
        d[3] = (byte)HBlank;
        d[4] = (byte)(((HActive >> 8) & 0xF) << 4 | ((HBlank >> 8) & 0xF));
        d[5] = (byte)VActive;
        d[6] = (byte)VBlank;
        d[7] = (byte)(((VActive >> 8) & 0xF) << 4 | ((VBlank >> 8) & 0xF));
        d[8] = (byte)HFrontPorch;
        d[9] = (byte)HSync;
        d[10] = (byte)(((VFrontPorch & 0xF) << 4) | (VSync & 0xF));
        d[11] = (byte)((((HFrontPorch >> 8) & 3) << 6) | (((HSync >> 8) & 3) << 4)
            | (((VFrontPorch >> 4) & 3) << 2) | ((VSync >> 4) & 3));
        d[12] = (byte)widthMm;
        d[13] = (byte)heightMm;
        d[14] = (byte)((((widthMm >> 8) & 0xF) << 4) | ((heightMm >> 8) & 0xF));
        d[15] = 0; // no borders
        d[16] = 0;
        d[17] = 0x18 | 0x02; // digital separate sync, vsync negative, hsync positive, not interlaced
    }
}
