using MiniVmm.Wayland.Protocol;
using MiniVmm.Wayland.Tests.Support;
using static MiniVmm.Wayland.Tests.Scanout.Frames;

namespace MiniVmm.Wayland.Tests.Scanout;

/// <summary>
/// ScanoutWindow against a real Weston (headless, pixman, desktop shell), checked through Weston's own screenshots.
/// One collection, so the Westons run one at a time on shared CI cores.
/// </summary>
[Collection("Weston")]
public sealed class ScanoutWindowWestonTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ShowsQuadrants(bool dispatchThread)
    {
        using var weston = WestonCompositor.Start(640, 480);
        var log = new StringWriter();
        using var window = new ScanoutWindow(new() { SocketPath = weston.SocketPath, DispatchThread = dispatchThread, Log = log });
        const int stride = 320 * 4 + 64;
        var frame = Marked(Quadrants(320, 240, stride, PixelFormat.Bgrx), stride, PixelFormat.Bgrx);

        Assert.True(window.Present(frame, 320, 240, stride, PixelFormat.Bgrx, (0, 0, 320, 240)));
        Assert.True(window.Roundtrip(Timeout), log.ToString());

        var shot = weston.TakeScreenshot();
        Assert.Equal((640, 480), (shot.Width, shot.Height));
        var origin = Locate(shot);
        foreach (var (x, y) in new[] { (10, 1), (80, 60), (159, 119) })
            AssertColour(shot, origin, x, y, Red);
        foreach (var (x, y) in new[] { (160, 0), (240, 60), (319, 119) })
            AssertColour(shot, origin, x, y, Green);
        foreach (var (x, y) in new[] { (0, 120), (80, 180), (159, 239) })
            AssertColour(shot, origin, x, y, Blue);
        foreach (var (x, y) in new[] { (160, 120), (240, 180), (319, 239) })
            AssertColour(shot, origin, x, y, White);
        Assert.NotEqual(Red, Colour(shot, origin.X + 80, origin.Y + 240));
        Assert.NotEqual(Green, Colour(shot, origin.X + 320, origin.Y + 60));
        Assert.Equal(ScanoutWindowState.Running, window.State);
    }

    /// <summary>Three frames over two buffers: the third lands in the first buffer, which must catch up on frame two.</summary>
    [Fact]
    public void PartialUpdatesSurviveDoubleBuffering()
    {
        using var weston = WestonCompositor.Start(640, 480);
        using var window = new ScanoutWindow(new() { SocketPath = weston.SocketPath });
        const int stride = 320 * 4;
        var frame = Marked(Solid(320, 240, stride, PixelFormat.Rgba, Grey), stride, PixelFormat.Rgba);
        Assert.True(window.Present(frame, 320, 240, stride, PixelFormat.Rgba, (0, 0, 320, 240)));
        Assert.True(window.Roundtrip(Timeout));

        Fill(frame, stride, PixelFormat.Rgba, (10, 10, 50, 50), Red);
        Assert.True(window.Present(frame, 320, 240, stride, PixelFormat.Rgba, (10, 10, 50, 50)));
        Assert.True(window.Roundtrip(Timeout));
        Fill(frame, stride, PixelFormat.Rgba, (200, 150, 60, 40), Blue);
        Assert.True(window.Present(frame, 320, 240, stride, PixelFormat.Rgba, (200, 150, 60, 40)));
        Assert.True(window.Roundtrip(Timeout));

        var shot = weston.TakeScreenshot();
        var origin = Locate(shot);
        AssertColour(shot, origin, 30, 30, Red);
        AssertColour(shot, origin, 230, 170, Blue);
        AssertColour(shot, origin, 5, 100, Grey);
        AssertColour(shot, origin, 300, 20, Grey);
        AssertColour(shot, origin, 100, 200, Grey);
    }

    [Fact]
    public void ResizeFollowsTheScanout()
    {
        using var weston = WestonCompositor.Start(640, 480);
        using var window = new ScanoutWindow(new() { SocketPath = weston.SocketPath });
        var big = Marked(Quadrants(320, 240, 1280, PixelFormat.Xrgb), 1280, PixelFormat.Xrgb);
        Assert.True(window.Present(big, 320, 240, 1280, PixelFormat.Xrgb, (0, 0, 320, 240)));
        Assert.True(window.Roundtrip(Timeout));

        // A new size repaints everything whatever the damage says.
        var small = Marked(Solid(160, 120, 640, PixelFormat.Xbgr, Green), 640, PixelFormat.Xbgr);
        Assert.True(window.Present(small, 160, 120, 640, PixelFormat.Xbgr, (0, 0, 1, 1)));
        Assert.True(window.Roundtrip(Timeout));

        // Weston repaints the area the shrunken window uncovered in a later frame than the window itself, at times.
        var shot = weston.TakeScreenshotWhen(s => s.Find(Marker) is { } at && Colour(s, at.X + 200, at.Y + 200) != White);
        var origin = Locate(shot);
        AssertColour(shot, origin, 80, 60, Green);
        AssertColour(shot, origin, 159, 119, Green);
        Assert.NotEqual(White, Colour(shot, origin.X + 200, origin.Y + 200));
        Assert.NotEqual(Green, Colour(shot, origin.X + 200, origin.Y + 60));
    }

    /// <summary>Weston's kiosk shell makes the toplevel fullscreen and kills clients whose geometry exceeds it.</summary>
    [Fact]
    public void ScanoutLargerThanFullscreenIsClippedNotFatal()
    {
        using var weston = WestonCompositor.Start(320, 240, "kiosk-shell.so");
        var log = new StringWriter();
        using var window = new ScanoutWindow(new() { SocketPath = weston.SocketPath, Log = TextWriter.Synchronized(log) });

        Assert.True(window.Present(Quadrants(640, 480, 2560, PixelFormat.Bgra), 640, 480, 2560, PixelFormat.Bgra, (0, 0, 640, 480)));
        Assert.True(window.Roundtrip(Timeout), log.ToString());
        Assert.True(window.Present(Quadrants(300, 200, 1200, PixelFormat.Bgra), 300, 200, 1200, PixelFormat.Bgra, (0, 0, 300, 200)));
        Assert.True(window.Roundtrip(Timeout), log.ToString());

        Assert.Equal(ScanoutWindowState.Running, window.State);
    }

    [Fact]
    public async Task CompositorCrashDisconnectsWithoutThrowing()
    {
        using var weston = WestonCompositor.Start(320, 240);
        var log = new StringWriter();
        using var window = new ScanoutWindow(new() { SocketPath = weston.SocketPath, Log = TextWriter.Synchronized(log) });
        var changed = new TaskCompletionSource<ScanoutWindowState>(TaskCreationOptions.RunContinuationsAsynchronously);
        window.StateChanged += (_, state) => changed.TrySetResult(state);
        var frame = Quadrants(320, 240, 1280, PixelFormat.Bgrx);
        Assert.True(window.Present(frame, 320, 240, 1280, PixelFormat.Bgrx, (0, 0, 320, 240)));

        weston.Kill();

        Assert.Equal(ScanoutWindowState.Disconnected, await changed.Task.WaitAsync(Timeout));
        Assert.False(window.Present(frame, 320, 240, 1280, PixelFormat.Bgrx, (0, 0, 320, 240)));
        Assert.False(window.Roundtrip(TimeSpan.FromMilliseconds(100)));
        Assert.Contains("wayland: the compositor closed the connection", log.ToString());
    }

    [Fact]
    public void ProtocolErrorFailsTheWindowWithoutThrowing()
    {
        using var weston = WestonCompositor.Start(320, 240);
        var log = new StringWriter();
        using var window = new ScanoutWindow(new() { SocketPath = weston.SocketPath, Log = TextWriter.Synchronized(log) });

        // Attaching a buffer id that does not exist is a protocol error Weston reports with wl_display.error.
        window.SendForTest((writer, surface) => WlSurface.Attach(writer, surface, 0xDEAD, 0, 0));

        Assert.True(SpinWait.SpinUntil(() => window.State != ScanoutWindowState.Running, Timeout));
        Assert.Equal(ScanoutWindowState.Failed, window.State);
        Assert.Contains("wayland: the compositor reported a protocol error: wl_display@1: error 1: invalid arguments for wl_surface@", log.ToString());
        Assert.False(window.Present(new byte[16], 2, 2, 8, PixelFormat.Bgrx, (0, 0, 2, 2)));
    }

    [Fact]
    public void DisposeIsBounded()
    {
        using var weston = WestonCompositor.Start(320, 240);
        var window = new ScanoutWindow(new() { SocketPath = weston.SocketPath });
        Assert.True(window.Present(new byte[320 * 240 * 4], 320, 240, 1280, PixelFormat.Bgrx, (0, 0, 320, 240)));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        window.Dispose();
        window.Dispose();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3));
        Assert.Equal(ScanoutWindowState.Closed, window.State);
        Assert.False(window.Present(new byte[16], 2, 2, 8, PixelFormat.Bgrx, (0, 0, 2, 2)));
    }

    private static (byte R, byte G, byte B) Colour(PngImage shot, int x, int y)
    {
        var (r, g, b, _) = shot.GetPixel(x, y);
        return (r, g, b);
    }
}
