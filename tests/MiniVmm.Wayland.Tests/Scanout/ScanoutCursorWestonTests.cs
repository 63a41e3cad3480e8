using MiniVmm.Wayland.Tests.Support;
using static MiniVmm.Wayland.Tests.Scanout.Frames;

namespace MiniVmm.Wayland.Tests.Scanout;

/// <summary>The guest cursor as a subsurface over the scanout, checked in a real Weston's screenshots.</summary>
[Collection("Weston")]
public sealed class ScanoutCursorWestonTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    [Fact]
    public void CursorShowsMovesChangesAndHides()
    {
        using var weston = WestonCompositor.Start(640, 480);
        var log = new StringWriter();
        using var window = ShowingSolidFrame(weston, Grey, log);

        Assert.True(window.ShowCursor(Cursor(Red, 24), 24, 24, 40, 30));
        var shot = Screenshot(weston, window, log);
        var origin = Locate(shot);
        AssertColour(shot, origin, 40, 30, Red);
        AssertColour(shot, origin, 63, 53, Red);
        AssertColour(shot, origin, 39, 30, Grey);
        AssertColour(shot, origin, 64, 53, Grey);

        Assert.True(window.MoveCursor(200, 150));
        shot = Screenshot(weston, window, log);
        AssertColour(shot, origin, 210, 160, Red);
        AssertColour(shot, origin, 50, 40, Grey);

        Assert.True(window.ShowCursor(Cursor(Blue, 24), 24, 24, 200, 150));
        shot = Screenshot(weston, window, log);
        AssertColour(shot, origin, 210, 160, Blue);

        Assert.True(window.HideCursor());
        Assert.False(window.CursorVisible);
        shot = Screenshot(weston, window, log);
        AssertColour(shot, origin, 210, 160, Grey);
        Assert.Equal(ScanoutWindowState.Running, window.State);
    }

    /// <summary>Transparent cursor pixels show the scanout through them (premultiplied ARGB, as guests send).</summary>
    [Fact]
    public void TransparentCursorPixelsShowTheScanout()
    {
        using var weston = WestonCompositor.Start(640, 480);
        var log = new StringWriter();
        using var window = ShowingSolidFrame(weston, Green, log);
        var cursor = Cursor(Red, 16);
        for (var i = 0; i < 16 * 8 * 4; i++)
            cursor[i] = 0; // the top half fully transparent
        Assert.True(window.ShowCursor(cursor, 16, 16, 100, 100));

        var shot = Screenshot(weston, window, log);
        var origin = Locate(shot);
        AssertColour(shot, origin, 104, 102, Green);
        AssertColour(shot, origin, 104, 112, Red);
    }

    /// <summary>
    /// Each image is a new buffer with its own memfd: replaced ones must be freed when the compositor releases them.
    /// Counted by the window (the process's fd count moves with tests running in parallel).
    /// </summary>
    [Fact]
    public void ManyCursorImagesDoNotLeakBuffers()
    {
        using var weston = WestonCompositor.Start(640, 480);
        var log = new StringWriter();
        using var window = ShowingSolidFrame(weston, Grey, log);
        Assert.True(window.ShowCursor(Cursor(Red, 64), 64, 64, 0, 0));
        Assert.True(window.Roundtrip(Timeout), log.ToString());

        for (var i = 0; i < 200; i++)
        {
            Assert.True(window.ShowCursor(Cursor(i % 2 == 0 ? Blue : Red, 64), 64, 64, i, i));
            Assert.True(window.Roundtrip(Timeout), log.ToString());
        }

        Assert.InRange(window.CursorBufferCount, 1, 2); // the shown one, and perhaps its predecessor awaiting release
        Assert.Equal(ScanoutWindowState.Running, window.State);
    }

    [Fact]
    public void BadCursorSizesAreCallerErrors()
    {
        using var weston = WestonCompositor.Start(320, 240);
        using var window = new ScanoutWindow(new() { SocketPath = weston.SocketPath });
        Assert.Throws<ArgumentException>(() => window.ShowCursor(new byte[16], 4, 4, 0, 0));
        Assert.Throws<ArgumentException>(() => window.ShowCursor(new byte[4], 0, 1, 0, 0));
        Assert.Throws<ArgumentException>(() => window.ShowCursor(new byte[4 * 512 * 512], 512, 512, 0, 0));
    }

    /// <summary>A window on <paramref name="weston"/> showing a marked 320x240 frame of one colour.</summary>
    private static ScanoutWindow ShowingSolidFrame(WestonCompositor weston, (byte R, byte G, byte B) colour, StringWriter log)
    {
        var window = new ScanoutWindow(new() { SocketPath = weston.SocketPath, Log = log });
        var frame = Marked(Solid(320, 240, 320 * 4, PixelFormat.Bgrx, colour), 320 * 4, PixelFormat.Bgrx);
        Assert.True(window.Present(frame, 320, 240, 320 * 4, PixelFormat.Bgrx, (0, 0, 320, 240)));
        return window;
    }

    private static PngImage Screenshot(WestonCompositor weston, ScanoutWindow window, StringWriter log)
    {
        Assert.True(window.Roundtrip(Timeout), log.ToString());
        return weston.TakeScreenshot();
    }

    /// <summary>An opaque square cursor in premultiplied ARGB8888 (bytes B, G, R, A).</summary>
    private static byte[] Cursor((byte R, byte G, byte B) colour, int size)
    {
        var argb = new byte[size * size * 4];
        for (var i = 0; i < argb.Length; i += 4)
            (argb[i], argb[i + 1], argb[i + 2], argb[i + 3]) = (colour.B, colour.G, colour.R, 255);
        return argb;
    }
}
