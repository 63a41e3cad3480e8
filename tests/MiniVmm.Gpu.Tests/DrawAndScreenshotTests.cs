using MiniVmm.Gpu.Backend;
using MiniVmm.Gpu.Protocol;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests;

/// <summary>End to end as a guest fbdev would: CREATE_2D, ATTACH_BACKING, TRANSFER, SET_SCANOUT, FLUSH; then screenshots.</summary>
public sealed class DrawAndScreenshotTests
{
    private const uint Width = 96, Height = 64;

    /// <summary>A pattern in guest XRGB8888 (bytes B, G, R, X): red ramp across, green ramp down, blue checker.</summary>
    private static (byte R, byte G, byte B) Pattern(uint x, uint y) =>
        ((byte)(x * 255 / (Width - 1)), (byte)(y * 255 / (Height - 1)), (byte)(((x / 8) + (y / 8)) % 2 == 0 ? 0xFF : 0x00));

    private static GpuHarness Draw(VirtioGpuFormat format = VirtioGpuFormat.B8G8R8X8_UNORM, int scanouts = 1)
    {
        var h = new GpuHarness(new GpuOptions { Width = (int)Width, Height = (int)Height, Scanouts = scanouts });
        var pages = h.CreateBackedResource(2, Width, Height, format);
        var (r, g, b, a) = PixelFormats.ChannelOffsets(format);
        var bytes = new byte[Width * Height * 4];
        for (uint y = 0; y < Height; y++)
            for (uint x = 0; x < Width; x++)
            {
                var (pr, pg, pb) = Pattern(x, y);
                int at = (int)((y * Width + x) * 4);
                bytes[at + r] = pr;
                bytes[at + g] = pg;
                bytes[at + b] = pb;
                if (a >= 0)
                    bytes[at + a] = 0x80;
            }
        h.Memory.Write(pages, bytes);
        Assert.Equal(RESP_OK_NODATA, h.Transfer(2, GpuHarness.Rect(0, 0, Width, Height), 0).Type);
        Assert.Equal(RESP_OK_NODATA, h.SetScanout(0, 2, GpuHarness.Rect(0, 0, Width, Height)).Type);
        Assert.Equal(RESP_OK_NODATA, h.Flush(2, GpuHarness.Rect(0, 0, Width, Height)).Type);
        return h;
    }

    [Fact]
    public void SinkReceivesTheGuestPattern()
    {
        using var h = Draw();
        var frame = Assert.Single(h.Sink.Frames);
        Assert.Equal((0, (int)Width, (int)Height, (int)Width * 4, VirtioGpuFormat.B8G8R8X8_UNORM), (frame.ScanoutId, frame.Width, frame.Height, frame.Stride, frame.Format));
        Assert.Equal("0,0 96x64", frame.Dirty.ToString());
        foreach (var (x, y) in new (uint, uint)[] { (0, 0), (95, 0), (0, 63), (95, 63), (17, 42), (8, 8) })
        {
            var (r, g, b) = Pattern(x, y);
            var px = frame.PixelAt((int)x, (int)y);
            Assert.Equal([b, g, r], px[..3]);
        }
    }

    [Theory]
    [InlineData(VirtioGpuFormat.B8G8R8A8_UNORM, 0x80)]
    [InlineData(VirtioGpuFormat.B8G8R8X8_UNORM, 0xFF)]
    [InlineData(VirtioGpuFormat.A8R8G8B8_UNORM, 0x80)]
    [InlineData(VirtioGpuFormat.X8R8G8B8_UNORM, 0xFF)]
    [InlineData(VirtioGpuFormat.R8G8B8A8_UNORM, 0x80)]
    [InlineData(VirtioGpuFormat.X8B8G8R8_UNORM, 0xFF)]
    [InlineData(VirtioGpuFormat.A8B8G8R8_UNORM, 0x80)]
    [InlineData(VirtioGpuFormat.R8G8B8X8_UNORM, 0xFF)]
    public void CaptureConvertsEveryFormatToRgbaAndBgra(VirtioGpuFormat format, byte alpha)
    {
        using var h = Draw(format);
        var rgba = h.Device.Scanouts[0].Capture()!;
        var bgra = h.Device.Scanouts[0].Capture(PixelOrder.Bgra)!;
        Assert.Equal(((int)Width, (int)Height, (int)(Width * Height * 4)), (rgba.Width, rgba.Height, rgba.Pixels.Length));
        var (r, g, b) = Pattern(50, 20);
        int at = (int)((20 * Width + 50) * 4);
        Assert.Equal([r, g, b, alpha], rgba.Pixels[at..(at + 4)]);
        Assert.Equal([b, g, r, alpha], bgra.Pixels[at..(at + 4)]);
    }

    [Fact]
    public void CaptureOfAScanoutWindowIsTightlyPacked()
    {
        using var h = Draw();
        Assert.Equal(RESP_OK_NODATA, h.SetScanout(0, 2, GpuHarness.Rect(10, 5, 20, 30)).Type);
        var image = h.Device.Scanouts[0].Capture()!;
        Assert.Equal((20, 30, 20 * 30 * 4), (image.Width, image.Height, image.Pixels.Length));
        var (r, g, b) = Pattern(10 + 3, 5 + 4);
        int at = (4 * 20 + 3) * 4;
        Assert.Equal([r, g, b, 0xFF], image.Pixels[at..(at + 4)]);
    }

    [Fact]
    public void PngRoundTripsTheScreenshot()
    {
        using var h = Draw();
        var image = h.Device.Scanouts[0].Capture()!;
        using var stream = new MemoryStream();
        PngWriter.Write(stream, image);
        var (width, height, rgba) = TinyPngReader.Decode(stream.ToArray());
        Assert.Equal(((int)Width, (int)Height), (width, height));
        Assert.Equal(image.Pixels, rgba);
    }

    [Fact]
    public void BgraCaptureIsSwizzledForPng()
    {
        using var h = Draw();
        using var stream = new MemoryStream();
        PngWriter.Write(stream, h.Device.Scanouts[0].Capture(PixelOrder.Bgra)!);
        Assert.Equal(h.Device.Scanouts[0].Capture()!.Pixels, TinyPngReader.Decode(stream.ToArray()).Rgba);
    }

    [Fact]
    public void ScreenshotFileIsWritten()
    {
        using var h = Draw();
        string path = Path.Combine(Path.GetTempPath(), $"minivmm-gpu-test-{Guid.NewGuid():N}.png");
        try
        {
            Assert.True(PngWriter.TryWriteScreenshot(h.Device.Scanouts[0], path));
            Assert.Equal((int)Width, TinyPngReader.Decode(File.ReadAllBytes(path)).Width);
        }
        finally
        {
            File.Delete(path);
        }
        using var blank = new GpuHarness(new GpuOptions { Width = (int)Width, Height = (int)Height });
        Assert.False(PngWriter.TryWriteScreenshot(blank.Device.Scanouts[0], path)); // a head that never showed anything
        Assert.False(File.Exists(path));
    }

    /// <summary>
    /// Linux disables every CRTC (SET_SCANOUT with resource 0) and resets virtio devices when it reboots, so the exit
    /// screenshot of a cleanly ended guest shows the last frame the scanout showed, not nothing.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AScanoutTheGuestDisabledStillScreenshotsItsLastFrame(bool byDeviceReset)
    {
        using var h = Draw();
        var shown = h.Device.Scanouts[0].Capture()!;
        if (byDeviceReset)
            h.Device.Reset();
        else
            Assert.Equal(RESP_OK_NODATA, h.SetScanout(0, 0, default).Type);
        Assert.Null(h.Device.Scanouts[0].Capture()); // the guest's view: disabled
        string path = Path.Combine(Path.GetTempPath(), $"minivmm-gpu-test-{Guid.NewGuid():N}.png");
        try
        {
            Assert.True(PngWriter.TryWriteScreenshot(h.Device.Scanouts[0], path));
            Assert.Equal(shown.Pixels, TinyPngReader.Decode(File.ReadAllBytes(path)).Rgba);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Multi-head: one file per scanout in use, scanout N's named NAME-N.png; an unused head writes none.</summary>
    [Fact]
    public void EachScanoutInUseGetsItsOwnScreenshotFile()
    {
        using var h = Draw(scanouts: 3);
        Assert.Equal(RESP_OK_NODATA, h.SetScanout(2, 2, GpuHarness.Rect(8, 0, 48, 32)).Type);
        var directory = Directory.CreateTempSubdirectory("minivmm-gpu-test-").FullName;
        try
        {
            var path = Path.Combine(directory, "exit.png");
            var written = PngWriter.WriteScreenshots(h.Device.Scanouts, path);

            Assert.Equal([(0, path), (2, Path.Combine(directory, "exit-2.png"))], written);
            Assert.Equal(["exit-2.png", "exit.png"], Directory.GetFiles(directory).Select(Path.GetFileName).Order());
            var head2 = TinyPngReader.Decode(File.ReadAllBytes(written[1].Path));
            Assert.Equal((48, 32), (head2.Width, head2.Height));
            Assert.Equal(h.Device.Scanouts[2].Capture()!.Pixels, head2.Rgba);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void PngWriterRejectsAMismatchedBuffer() =>
        Assert.Throws<ArgumentException>(() => PngWriter.Write(Stream.Null, new byte[10], 2, 2));
}
