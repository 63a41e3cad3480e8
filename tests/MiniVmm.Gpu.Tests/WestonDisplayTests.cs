using MiniVmm.Gpu.Protocol;
using MiniVmm.Machine.Display;
using MiniVmm.Wayland.Tests.Support;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests;

/// <summary>
/// The whole 2D display path against a real Weston (headless): the harness plays the guest driver
/// (CREATE_2D, ATTACH_BACKING, TRANSFER_TO_HOST_2D, SET_SCANOUT, RESOURCE_FLUSH), the device hands
/// the frame to the Wayland window, and the test reads the pixels back from Weston's screenshot.
/// </summary>
[Collection("Weston")]
public sealed class WestonDisplayTests
{
    internal const uint Width = 200, Height = 120;
    private static readonly (byte R, byte G, byte B) Marker = (0xFF, 0x00, 0xFF);
    private static readonly (byte R, byte G, byte B)[] Quadrant = [(0xE0, 0x20, 0x20), (0x20, 0xC0, 0x30), (0x20, 0x40, 0xE0), (0xF0, 0xF0, 0xF0)];

    private static (byte R, byte G, byte B) Expected(uint x, uint y) =>
        x < 4 && y < 4 ? Marker : Quadrant[(y < Height / 2 ? 0 : 2) + (x < Width / 2 ? 0 : 1)];

    [Fact]
    public void AGuestFramebufferAppearsInWestonsScreenshot()
    {
        using var weston = WestonCompositor.Start(640, 480);
        using var display = WaylandDisplay.Open(weston.SocketPath);
        using var h = new GpuHarness(new GpuOptions { Width = (int)Width, Height = (int)Height }, sink: display);

        ShowGuestFrame(h, Expected);
        Assert.True(display.Window.Roundtrip(TimeSpan.FromSeconds(5)), "the compositor did not answer");

        var shot = weston.TakeScreenshot();
        var origin = shot.Find(Marker);
        Assert.True(origin is not null, $"the guest's frame (magenta marker) is not in Weston's screenshot; window {display.Window.State} {display.Window.StateReason}; trace: {string.Join(" | ", h.Trace)}");
        foreach (var (x, y) in new (uint, uint)[] { (10, 10), (150, 20), (30, 100), (190, 110), (99, 59), (100, 60) })
        {
            var pixel = shot.GetPixel(origin.Value.X + (int)x, origin.Value.Y + (int)y);
            Assert.Equal(Expected(x, y), (pixel.R, pixel.G, pixel.B));
        }
    }

    /// <summary>The cursor queue: UPDATE_CURSOR draws the guest's 64x64 image over the scanout, MOVE_CURSOR moves it.</summary>
    [Fact]
    public void TheGuestCursorIsDrawnOverTheScanoutAndFollowsMoves()
    {
        using var weston = WestonCompositor.Start(640, 480);
        using var display = WaylandDisplay.Open(weston.SocketPath);
        using var h = new GpuHarness(new GpuOptions { Width = (int)Width, Height = (int)Height }, sink: display);
        ShowGuestFrame(h, (x, y) => x < 4 && y < 4 ? Marker : ((byte)0x40, (byte)0x40, (byte)0x40));
        CreateHalfYellowCursor(h, 3);

        Assert.Equal(RESP_OK_NODATA, h.UpdateCursor(0, 3, 20, 30, hotX: 5, hotY: 5).Type);
        var (shot, origin) = Screenshot(weston, display);
        Assert.Equal((0xE0, 0xE0, 0x00), Rgb(shot, origin, 20 + 10, 30 + 10));
        Assert.Equal((0x40, 0x40, 0x40), Rgb(shot, origin, 20 + 40, 30 + 10)); // the transparent half
        Assert.Equal((0x40, 0x40, 0x40), Rgb(shot, origin, 15, 25));

        Assert.Equal(RESP_OK_NODATA, h.UpdateCursor(0, 0, 120, 50, type: CMD_MOVE_CURSOR).Type);
        (shot, origin) = Screenshot(weston, display);
        Assert.Equal((0xE0, 0xE0, 0x00), Rgb(shot, origin, 120 + 10, 50 + 10));
        Assert.Equal((0x40, 0x40, 0x40), Rgb(shot, origin, 20 + 10, 30 + 10));

        Assert.Equal(RESP_OK_NODATA, h.UpdateCursor(0, 0, 120, 50).Type); // resource 0 hides it
        (shot, origin) = Screenshot(weston, display);
        Assert.Equal((0x40, 0x40, 0x40), Rgb(shot, origin, 120 + 10, 50 + 10));
    }

    /// <summary>As a guest driver would: a <see cref="Width"/>x<see cref="Height"/> resource with <paramref name="colour"/>(x, y) as XRGB, on a scanout, flushed.</summary>
    internal static void ShowGuestFrame(GpuHarness h, Func<uint, uint, (byte R, byte G, byte B)> colour, uint resourceId = 2, uint scanoutId = 0)
    {
        var pages = h.CreateBackedResource(resourceId, Width, Height, VirtioGpuFormat.B8G8R8X8_UNORM);
        var bytes = new byte[Width * Height * 4];
        for (uint y = 0; y < Height; y++)
            for (uint x = 0; x < Width; x++)
            {
                var (r, g, b) = colour(x, y);
                int at = (int)((y * Width + x) * 4);
                (bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]) = (b, g, r, 0);
            }
        h.Memory.Write(pages, bytes);
        Assert.Equal(RESP_OK_NODATA, h.Transfer(resourceId, GpuHarness.Rect(0, 0, Width, Height), 0).Type);
        Assert.Equal(RESP_OK_NODATA, h.SetScanout(scanoutId, resourceId, GpuHarness.Rect(0, 0, Width, Height)).Type);
        Assert.Equal(RESP_OK_NODATA, h.Flush(resourceId, GpuHarness.Rect(0, 0, Width, Height)).Type);
    }

    /// <summary>A 64x64 B8G8R8A8 cursor resource: opaque yellow (0xE0, 0xE0, 0x00) left half, fully transparent right half.</summary>
    internal static void CreateHalfYellowCursor(GpuHarness h, uint resourceId)
    {
        var cursorPages = h.CreateBackedResource(resourceId, 64, 64, VirtioGpuFormat.B8G8R8A8_UNORM);
        var cursor = new byte[64 * 64 * 4];
        for (var i = 0; i < 64 * 64; i++)
        {
            if (i % 64 < 32)
                (cursor[i * 4], cursor[i * 4 + 1], cursor[i * 4 + 2], cursor[i * 4 + 3]) = (0x00, 0xE0, 0xE0, 0xFF);
        }
        h.Memory.Write(cursorPages, cursor);
        Assert.Equal(RESP_OK_NODATA, h.Transfer(resourceId, GpuHarness.Rect(0, 0, 64, 64), 0).Type);
    }

    private static (PngImage Shot, (int X, int Y) Origin) Screenshot(WestonCompositor weston, WaylandDisplay display)
    {
        Assert.True(display.Window.Roundtrip(TimeSpan.FromSeconds(5)), "the compositor did not answer");
        var shot = weston.TakeScreenshot();
        var origin = shot.Find(Marker) ?? throw new Xunit.Sdk.XunitException($"the guest's frame is not on Weston's screenshot; window {display.Window.State} {display.Window.StateReason}");
        return (shot, origin);
    }

    internal static (byte R, byte G, byte B) Rgb(PngImage shot, (int X, int Y) origin, int x, int y)
    {
        var pixel = shot.GetPixel(origin.X + x, origin.Y + y);
        return (pixel.R, pixel.G, pixel.B);
    }
}
