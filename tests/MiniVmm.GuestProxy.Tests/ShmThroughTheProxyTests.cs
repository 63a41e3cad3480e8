using System.Diagnostics;
using System.Reflection;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Tests.Support;

namespace MiniVmm.GuestProxy.Tests;

/// <summary>
/// Client wl_shm pools through proxy → in-process device model → Weston: the pool's fd is replaced by a host blob
/// and each commit copies the attached buffer into it, so the compositor's screenshot must show the client's pixels.
/// </summary>
[Collection("Weston")]
public sealed class ShmThroughTheProxyTests
{
    private const string SimpleShm = "/usr/bin/weston-simple-shm";
    private const int Width = 200, Height = 120;
    private static readonly (byte R, byte G, byte B) Marker = (0xFF, 0x00, 0xFF);
    private static readonly (byte R, byte G, byte B)[] Quadrant = [(0xE0, 0x30, 0x10), (0x10, 0xC0, 0x30), (0x20, 0x30, 0xD0), (0xF0, 0xE0, 0x20)];

    private static (byte R, byte G, byte B) Expected(int x, int y) =>
        x < 4 && y < 4 ? Marker : Quadrant[(y < Height / 2 ? 0 : 2) + (x < Width / 2 ? 0 : 1)];

    [Fact]
    public void AMemfdPoolsPatternShowsUpInWestonsScreenshot()
    {
        using var chain = new ProxyFixture(shell: "desktop-shell.so", width: 640, height: 480);
        // ScanoutWindow is an ordinary wl_shm client: a memfd pool, create_buffer, attach, damage, commit.
        using var window = new ScanoutWindow(new ScanoutWindowOptions { SocketPath = chain.SocketPath });
        var pixels = new byte[Width * Height * 4];
        for (var y = 0; y < Height; y++)
        {
            for (var x = 0; x < Width; x++)
            {
                var (r, g, b) = Expected(x, y);
                pixels.AsSpan((y * Width + x) * 4, 4).SetAll(b, g, r); // BGRX: XRGB8888 in memory
            }
        }
        Assert.True(window.Present(pixels, Width, Height, Width * 4, PixelFormat.Bgrx, new PixelRect(0, 0, Width, Height)), "the window stopped: " + window.StateReason + "\n" + chain.Log);
        Assert.True(window.Roundtrip(TimeSpan.FromSeconds(5)), "no roundtrip through the proxy\n" + chain.Log);

        var shot = WaitForScreenshot(chain, s => s.Find(Marker) is not null);
        var origin = shot.Find(Marker);
        Assert.True(origin is not null, $"the client's marker is not in Weston's screenshot; window {window.State} {window.StateReason}\n{chain.Log}");
        foreach (var (x, y) in new[] { (10, 10), (150, 20), (30, 100), (190, 110), (99, 59), (100, 60) })
        {
            var pixel = shot.GetPixel(origin.Value.X + x, origin.Value.Y + y);
            Assert.Equal(Expected(x, y), (pixel.R, pixel.G, pixel.B));
        }
        Assert.DoesNotContain("closing it", chain.ProxyLog);
    }

    /// <param name="overDrm">Through the guest's DRM transport over the model of the kernel driver (every pool a
    /// HOST3D blob exported by PRIME), instead of the in-process transport.</param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WestonSimpleShmThroughTheProxyDrawsItsPattern(bool overDrm)
    {
        Assert.True(File.Exists(SimpleShm), "weston-simple-shm is missing: apt-get install -y weston");
        using var chain = new ProxyFixture(shell: "desktop-shell.so", width: 640, height: 480, overDrm: overDrm);
        var start = new ProcessStartInfo(SimpleShm) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["XDG_RUNTIME_DIR"] = chain.Weston.RuntimeDirectory;
        start.Environment["WAYLAND_DISPLAY"] = chain.SocketPath;
        using var client = Process.Start(start) ?? throw new InvalidOperationException("could not start weston-simple-shm");
        var output = client.StandardOutput.ReadToEndAsync();
        var errors = client.StandardError.ReadToEndAsync();
        PngImage shot;
        string proxyLogWhileRunning;
        try
        {
            Thread.Sleep(2000); // it animates; two seconds is many frames, each one a copy-on-commit
            Assert.False(client.HasExited, $"weston-simple-shm exited {(client.HasExited ? client.ExitCode : 0)} early\n{chain.Log}");
            shot = WaitForScreenshot(chain, s => Colourful(s) > 1000);
            // Taken before the kill: the proxy may then log a broken pipe to the dead client, which is expected.
            proxyLogWhileRunning = chain.ProxyLog;
        }
        finally
        {
            if (!client.HasExited)
                client.Kill(entireProcessTree: true);
            Assert.True(client.WaitForExit(5000), "weston-simple-shm did not die");
        }
        var colourful = Colourful(shot);
        if (!overDrm)
            SaveForTheReadme(shot, "weston-simple-shm-through-the-proxy.png");
        var clientOutput = await output + await errors; // complete: the process is gone
        Assert.True(colourful > 1000, $"only {colourful} non-background pixels: weston-simple-shm's window is not showing\n{clientOutput}\n{chain.Log}");
        Assert.DoesNotContain("closing it", proxyLogWhileRunning);
        Assert.DoesNotContain("failed", proxyLogWhileRunning);
        Assert.All(chain.DrmFiles, file => Assert.Empty(file.DeviceErrors));
    }

    /// <summary>Keeps Weston's screenshot under artifacts/screenshots (git-ignored); the README's picture comes from there.</summary>
    private static void SaveForTheReadme(PngImage shot, string name)
    {
        string root = typeof(ShmThroughTheProxyTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(attribute => attribute.Key == "RepositoryRoot").Value!;
        string directory = Path.Combine(root, "artifacts", "screenshots");
        Directory.CreateDirectory(directory);
        using var file = File.Create(Path.Combine(directory, name));
        MiniVmm.Gpu.PngWriter.Write(file, shot.Rgba, shot.Width, shot.Height);
    }

    private static int Colourful(PngImage shot) => WestonCompositor.ClientPixels(shot);

    /// <summary>Screenshots until <paramref name="done"/> holds or 10 s pass (the first frame may still be in flight).</summary>
    internal static PngImage WaitForScreenshot(ProxyFixture chain, Func<PngImage, bool> done) =>
        chain.Weston.TakeScreenshotWhen(done);
}

internal static class PixelSpanExtensions
{
    public static void SetAll(this Span<byte> pixel, byte b, byte g, byte r)
    {
        pixel[0] = b;
        pixel[1] = g;
        pixel[2] = r;
        pixel[3] = 0xFF;
    }
}
