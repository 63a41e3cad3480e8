using MiniVmm.Gpu.Protocol;
using MiniVmm.Machine.Display;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Tests.Support;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;
using static MiniVmm.Gpu.Tests.WestonDisplayTests;

namespace MiniVmm.Gpu.Tests;

/// <summary>
/// --gpu scanouts=2 against a real Weston (headless): the harness plays a guest driver with two heads, and each head
/// must show in its own window, found on Weston's screenshot by a marker colour of its own.
/// </summary>
[Collection("Weston")]
public sealed class WestonMultiHeadTests
{
    private static readonly (byte R, byte G, byte B) Marker0 = (0xFF, 0x00, 0xFF), Marker1 = (0x00, 0xFF, 0xFF);
    private static readonly (byte R, byte G, byte B) Fill0 = (0xE0, 0x20, 0x20), Fill1 = (0x20, 0xC0, 0x30);
    private static readonly (byte R, byte G, byte B) Black = (0, 0, 0), CursorYellow = (0xE0, 0xE0, 0x00);
    private const int Attempts = 6;

    [Fact]
    public void EachScanoutShowsInItsOwnWindowAndADisabledOneTurnsBlack()
    {
        using var weston = WestonCompositor.Start(1024, 768);
        var heads = ShowBothHeads(weston);
        using var display = heads.Display;
        using var h = heads.Harness;

        Assert.Equal(ScanoutWindowState.Running, display.WindowFor(1)!.State);
        Assert.Same(display.Window, display.WindowFor(0));
        Assert.Equal(Fill0, Rgb(heads.Shot, heads.Origin0, 100, 60));
        Assert.Equal(Fill1, Rgb(heads.Shot, heads.Origin1, 100, 60));
        Assert.Equal(Fill1, Rgb(heads.Shot, heads.Origin1, (int)Width - 1, (int)Height - 1));

        Assert.Equal(RESP_OK_NODATA, h.SetScanout(1, 0, GpuHarness.Rect(0, 0, 0, 0)).Type); // resource 0 disables it
        Roundtrip(display.WindowFor(1)!);
        var shot = weston.TakeScreenshotWhen(s => s.Find(Marker1) is null);
        Assert.Null(shot.Find(Marker1));
        Assert.Equal(Black, Rgb(shot, heads.Origin1, 100, 60));
        Assert.Equal(Black, Rgb(shot, heads.Origin1, 0, 0));
        Assert.Equal(Marker0, Rgb(shot, heads.Origin0, 0, 0));
        Assert.Equal(Fill0, Rgb(shot, heads.Origin0, 100, 60));
    }

    /// <summary>
    /// The cursor is put on head 1 before head 1's first frame: its window shows it once it opens. A MOVE_CURSOR to
    /// head 0 then moves it across windows.
    /// </summary>
    [Fact]
    public void TheCursorShowsOnlyInItsScanoutsWindow()
    {
        using var weston = WestonCompositor.Start(1024, 768);
        var heads = ShowBothHeads(weston, beforeHead1: h =>
        {
            CreateHalfYellowCursor(h, 3);
            Assert.Equal(RESP_OK_NODATA, h.UpdateCursor(1, 3, 40, 20).Type);
        });
        using var display = heads.Display;
        using var h = heads.Harness;

        var shot = weston.TakeScreenshotWhen(s => Rgb(s, heads.Origin1, 50, 30) == CursorYellow);
        Assert.Equal(CursorYellow, Rgb(shot, heads.Origin1, 40 + 10, 20 + 10));
        Assert.Equal(Fill1, Rgb(shot, heads.Origin1, 40 + 40, 20 + 10)); // the transparent half
        Assert.Equal(Fill0, Rgb(shot, heads.Origin0, 40 + 10, 20 + 10));
        Assert.True(display.WindowFor(1)!.CursorVisible);
        Assert.False(display.Window.CursorVisible);

        Assert.Equal(RESP_OK_NODATA, h.UpdateCursor(0, 0, 120, 50, type: CMD_MOVE_CURSOR).Type);
        Roundtrip(display.Window);
        Roundtrip(display.WindowFor(1)!);
        shot = weston.TakeScreenshotWhen(s => Rgb(s, heads.Origin0, 130, 60) == CursorYellow && Rgb(s, heads.Origin1, 50, 30) == Fill1);
        Assert.Equal(CursorYellow, Rgb(shot, heads.Origin0, 120 + 10, 50 + 10));
        Assert.Equal(Fill1, Rgb(shot, heads.Origin1, 40 + 10, 20 + 10));
        Assert.Equal(Fill1, Rgb(shot, heads.Origin1, 120 + 10, 50 + 10));
        Assert.False(display.WindowFor(1)!.CursorVisible);
    }

    /// <summary>A head whose window cannot open is reported once and left dark; the guest and the display go on.</summary>
    [Fact]
    public void AHeadWhoseWindowCannotOpenIsReportedOnceAndSkipped()
    {
        using var weston = WestonCompositor.Start(640, 480);
        var log = new StringWriter();
        using var display = WaylandDisplay.Open(weston.SocketPath, log);
        using var h = new GpuHarness(new GpuOptions { Scanouts = 2, Width = (int)Width, Height = (int)Height }, sink: display);
        Assert.Null(display.WindowFor(1));
        weston.Kill();

        ShowGuestFrame(h, (_, _) => Fill1, resourceId: 4, scanoutId: 1);
        Assert.Equal(RESP_OK_NODATA, h.Flush(4, GpuHarness.Rect(0, 0, Width, Height)).Type);
        Assert.Equal(RESP_OK_NODATA, h.UpdateCursor(1, 0, 10, 10).Type);

        Assert.Null(display.WindowFor(1));
        Assert.Null(display.WindowFor(16));
        Assert.Null(display.WindowFor(-1));
        var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines, line => line.StartsWith("wayland: scanout 1 is not shown: ", StringComparison.Ordinal));
    }

    private sealed record Heads(WaylandDisplay Display, GpuHarness Harness, PngImage Shot, (int X, int Y) Origin0, (int X, int Y) Origin1);

    /// <summary>
    /// Opens a display with two heads, shows a frame on each (marker at the top-left corner) and returns once both
    /// windows are on the screenshot apart. Desktop-shell puts each new window at a random spot, so a pair that
    /// overlaps is closed and placed again (a few times, then the test fails).
    /// </summary>
    private static Heads ShowBothHeads(WestonCompositor weston, Action<GpuHarness>? beforeHead1 = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var display = WaylandDisplay.Open(weston.SocketPath);
            var h = new GpuHarness(new GpuOptions { Scanouts = 2, Width = (int)Width, Height = (int)Height }, sink: display);
            ShowGuestFrame(h, (x, y) => x < 4 && y < 4 ? Marker0 : Fill0, resourceId: 2, scanoutId: 0);
            Assert.Null(display.WindowFor(1)); // no frame yet: no window
            beforeHead1?.Invoke(h);
            ShowGuestFrame(h, (x, y) => x < 4 && y < 4 ? Marker1 : Fill1, resourceId: 4, scanoutId: 1);
            Roundtrip(display.Window);
            Roundtrip(display.WindowFor(1) ?? throw new Xunit.Sdk.XunitException("scanout 1's first frame opened no window"));
            var shot = weston.TakeScreenshotWhen(s => s.Find(Marker0) is not null && s.Find(Marker1) is not null, TimeSpan.FromSeconds(3));
            if (shot.Find(Marker0) is { } origin0 && shot.Find(Marker1) is { } origin1 && Apart(origin0, origin1))
                return new Heads(display, h, shot, origin0, origin1);
            h.Dispose();
            display.Dispose();
            if (attempt == Attempts)
                throw new Xunit.Sdk.XunitException($"after {Attempts} tries the two heads' windows were never both on the screenshot, apart (markers {shot.Find(Marker0)} and {shot.Find(Marker1)})");
        }
    }

    private static bool Apart((int X, int Y) a, (int X, int Y) b) =>
        Math.Abs(a.X - b.X) >= Width || Math.Abs(a.Y - b.Y) >= Height;

    private static void Roundtrip(ScanoutWindow window) =>
        Assert.True(window.Roundtrip(TimeSpan.FromSeconds(5)), $"the compositor did not answer; window {window.State} {window.StateReason}");
}
