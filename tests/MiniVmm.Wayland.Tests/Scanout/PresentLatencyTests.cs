using System.Diagnostics;
using MiniVmm.Wayland.Tests.Support;
using Xunit.Abstractions;

namespace MiniVmm.Wayland.Tests.Scanout;

/// <summary>
/// How long Present takes from entry to wl_surface.commit sent (ScanoutWindow.LastPresentTicks), for the bench.
/// Each frame is followed by a roundtrip so a buffer is always free (the steady state at display rate).
/// Printed with: dotnet test --filter PresentLatency --logger "console;verbosity=detailed".
/// </summary>
[Collection("Weston")]
public sealed class PresentLatencyTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(1024, 768, PixelFormat.Bgrx, false)]
    [InlineData(1024, 768, PixelFormat.Rgbx, false)]
    [InlineData(1920, 1080, PixelFormat.Bgrx, false)]
    [InlineData(1920, 1080, PixelFormat.Bgrx, true)]
    public void PresentLatency(int width, int height, PixelFormat format, bool smallDamage)
    {
        using var weston = WestonCompositor.Start(640, 480);
        using var window = new ScanoutWindow(new() { SocketPath = weston.SocketPath });
        var stride = width * 4;
        var frame = Frames.Quadrants(width, height, stride, format);
        PixelRect damage = smallDamage ? (100, 100, 64, 64) : (0, 0, width, height);
        var samples = new List<double>();
        for (var i = 0; i < 130; i++)
        {
            Assert.True(window.Present(frame, width, height, stride, format, damage));
            Assert.True(window.Roundtrip(TimeSpan.FromSeconds(5)));
            if (i >= 30)
                samples.Add(window.LastPresentTicks * 1e6 / Stopwatch.Frequency);
        }
        samples.Sort();
        var (median, p90, max) = (samples[samples.Count / 2], samples[samples.Count * 9 / 10], samples[^1]);
        output.WriteLine($"Present {width}x{height} {format} damage {damage.Width}x{damage.Height}: " +
            $"median {median:F0} us, p90 {p90:F0} us, max {max:F0} us (entry to wl_surface.commit sent)");
        Assert.True(median < 100_000, $"median {median} us");
    }
}
