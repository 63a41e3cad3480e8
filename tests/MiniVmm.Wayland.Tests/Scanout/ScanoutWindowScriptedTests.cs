using MiniVmm.Wayland.Protocol;

namespace MiniVmm.Wayland.Tests.Scanout;

/// <summary>ScanoutWindow's protocol behaviour against <see cref="FakeCompositor"/>, event by event.</summary>
public sealed class ScanoutWindowScriptedTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    [Fact]
    public void SetsUpAToplevelAndAnswersPing()
    {
        using var fake = new FakeCompositor();
        using var window = new ScanoutWindow(new() { SocketPath = fake.SocketPath, Title = "Guest", AppId = "minivmm-test" });

        Assert.Contains(fake.Requests, r => r == "wl_registry@2.bind(name: 1, id: new wl_compositor@3 v4)");
        Assert.Contains(fake.Requests, r => r.StartsWith("xdg_toplevel@", StringComparison.Ordinal) && r.EndsWith(".set_title(title: \"Guest\")", StringComparison.Ordinal));
        Assert.Contains(fake.Requests, r => r.EndsWith(".set_app_id(app_id: \"minivmm-test\")", StringComparison.Ordinal));
        Assert.True(fake.WaitFor(r => r.Contains(".ack_configure(serial: 1)", StringComparison.Ordinal)));

        fake.Send(w => XdgWmBase.EmitPing(w, fake.IdOf("xdg_wm_base"), 77));
        Assert.True(fake.WaitFor(r => r.EndsWith(".pong(serial: 77)", StringComparison.Ordinal)));
    }

    [Fact]
    public void FrameBeforeTheFirstConfigureIsShownAfterIt()
    {
        using var fake = new FakeCompositor(autoConfigure: false);
        using var window = new ScanoutWindow(new() { SocketPath = fake.SocketPath });

        Assert.True(window.Present(new byte[64 * 4 * 32], 64, 32, 256, PixelFormat.Bgrx, (0, 0, 64, 32)));
        Assert.True(window.Roundtrip(Timeout));
        Assert.DoesNotContain(fake.Requests, r => r.Contains(".attach(", StringComparison.Ordinal));

        fake.SendConfigure(0, 0, [], serial: 5);
        Assert.True(fake.WaitFor(r => r.Contains(".attach(buffer: wl_buffer@", StringComparison.Ordinal)));
        var requests = fake.Requests;
        var ack = Array.FindIndex(requests, r => r.EndsWith(".ack_configure(serial: 5)", StringComparison.Ordinal));
        var attach = Array.FindIndex(requests, r => r.Contains(".attach(", StringComparison.Ordinal));
        Assert.InRange(ack, 0, attach - 1);
        Assert.Contains(requests, r => r.EndsWith(".damage_buffer(x: 0, y: 0, width: 64, height: 32)", StringComparison.Ordinal));
    }

    [Fact]
    public void FullscreenConfigureClipsTheWindowGeometry()
    {
        using var fake = new FakeCompositor(autoConfigure: false);
        using var window = new ScanoutWindow(new() { SocketPath = fake.SocketPath });
        fake.SendConfigure(320, 240, [XdgToplevel.State.Fullscreen, XdgToplevel.State.Activated]);
        Assert.True(fake.WaitFor(r => r.Contains(".ack_configure(serial: 1)", StringComparison.Ordinal)));

        Assert.True(window.Present(new byte[640 * 480 * 4], 640, 480, 2560, PixelFormat.Bgrx, (0, 0, 640, 480)));
        Assert.True(window.Roundtrip(Timeout));

        Assert.Contains(fake.Requests, r => r.EndsWith(".set_window_geometry(x: 0, y: 0, width: 320, height: 240)", StringComparison.Ordinal));
    }

    /// <summary>With both buffers held, frames go to the shadow; a release commits the latest one with the union of damage.</summary>
    [Fact]
    public void LatestFrameWaitsForABufferRelease()
    {
        using var fake = new FakeCompositor();
        using var window = new ScanoutWindow(new() { SocketPath = fake.SocketPath });
        Assert.True(fake.WaitFor(r => r.Contains(".ack_configure(", StringComparison.Ordinal)));
        var frame = new byte[100 * 100 * 4];
        Assert.True(window.Present(frame, 100, 100, 400, PixelFormat.Bgrx, (0, 0, 100, 100)));
        Assert.True(window.Present(frame, 100, 100, 400, PixelFormat.Bgrx, (10, 10, 5, 5)));
        Assert.True(window.Present(frame, 100, 100, 400, PixelFormat.Bgrx, (20, 20, 5, 5)));
        Assert.True(window.Present(frame, 100, 100, 400, PixelFormat.Bgrx, (40, 40, 5, 5)));
        Assert.True(window.Roundtrip(Timeout));
        var attaches = fake.Requests.Where(r => r.Contains(".attach(", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, attaches.Count);

        var first = uint.Parse(attaches[0].Split("wl_buffer@")[1].Split(',')[0], System.Globalization.CultureInfo.InvariantCulture);
        fake.Send(w => WlBuffer.EmitRelease(w, first));
        Assert.True(fake.WaitFor(r => r.EndsWith(".damage_buffer(x: 20, y: 20, width: 25, height: 25)", StringComparison.Ordinal)));
        Assert.Equal(attaches[0], fake.Requests.Last(r => r.Contains(".attach(", StringComparison.Ordinal)));
    }

    [Fact]
    public void CloseRequestClosesTheWindow()
    {
        using var fake = new FakeCompositor();
        var log = new StringWriter();
        using var window = new ScanoutWindow(new() { SocketPath = fake.SocketPath, Log = TextWriter.Synchronized(log), LogPrefix = "wayland: scanout 3: " });

        fake.Send(w => XdgToplevel.EmitClose(w, fake.IdOf("xdg_toplevel")));

        Assert.True(SpinWait.SpinUntil(() => window.State == ScanoutWindowState.Closed, Timeout));
        Assert.True(fake.WaitFor(r => r.StartsWith("wl_surface@", StringComparison.Ordinal) && r.EndsWith(".destroy()", StringComparison.Ordinal)));
        Assert.StartsWith("wayland: scanout 3: ", log.ToString(), StringComparison.Ordinal); // which head's window it was
        Assert.Contains("xdg_toplevel.close", log.ToString());
        Assert.False(window.Present(new byte[16], 2, 2, 8, PixelFormat.Bgrx, (0, 0, 2, 2)));
    }

    [Fact]
    public void MissingGlobalIsAClearError()
    {
        using var fake = new FakeCompositor(globals: ["wl_compositor", "wl_shm"]);
        var error = Assert.Throws<WaylandException>(() => new ScanoutWindow(new() { SocketPath = fake.SocketPath }));
        Assert.Equal($"the compositor at {fake.SocketPath} does not offer xdg_wm_base version 1 or later", error.Message);
    }

    [Fact]
    public void SilentCompositorTimesOutSetup()
    {
        using var fake = new FakeCompositor(silent: true);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = Assert.Throws<WaylandException>(() =>
            new ScanoutWindow(new() { SocketPath = fake.SocketPath, SetupTimeout = TimeSpan.FromMilliseconds(300) }));
        Assert.Contains("no answer within 0.3 s", error.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3));
    }

    [Fact]
    public void MisuseThrowsArgumentException()
    {
        using var fake = new FakeCompositor();
        using var window = new ScanoutWindow(new() { SocketPath = fake.SocketPath });
        Assert.Throws<ArgumentException>(() => window.Present(new byte[10], 2, 2, 8, PixelFormat.Bgrx, (0, 0, 2, 2)));
        Assert.Throws<ArgumentException>(() => window.Present(new byte[64], 4, 4, 8, PixelFormat.Bgrx, (0, 0, 4, 4)));
        Assert.Throws<ArgumentException>(() => window.Present(new byte[64], 0, 4, 16, PixelFormat.Bgrx, (0, 0, 4, 4)));
        Assert.Equal(ScanoutWindowState.Running, window.State);
    }
}
