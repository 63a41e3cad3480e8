using System.Diagnostics;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Tests.Support;

namespace MiniVmm.Bench;

/// <summary>
/// Rounds of gpu-flush for one damage rectangle: RESOURCE_FLUSH through the device, then the same frame presented
/// to the window directly; each is followed by an untimed roundtrip so that the next frame finds a free buffer.
/// </summary>
internal sealed class GpuFlushRounds(GpuBenchDriver driver, ScanoutWindow window, WestonCompositor weston, byte[] frame, int runs)
{
    /// <summary>Returns "NAME_median_us=… NAME_p90_us=… NAME_direct_median_us=… NAME_direct_p90_us=… NAME_stashed=…".</summary>
    public string Measure(string name, VirtioGpuRect rect)
    {
        var device = new List<double>();
        var direct = new List<double>();
        var damage = new PixelRect((int)rect.X, (int)rect.Y, (int)rect.Width, (int)rect.Height);
        int width = (int)GpuBench.Width, height = (int)GpuBench.Height;
        int stashed = 0;
        // A frame that found no free buffer is only stashed (no commit yet), so its time says nothing about
        // flush-to-commit: such a round is dropped and counted, and another one runs in its place.
        for (int round = 0; device.Count < runs; round++)
        {
            if (round >= GpuBench.Warmup + (3 * runs))
                throw new InvalidOperationException($"{name}: {stashed} of {round} rounds found no free buffer");
            var chain = driver.PostFlush(GpuBench.ResourceId, rect);
            var (deviceUs, deviceCommitted) = Timed(driver.Kick);
            driver.ExpectOk(chain, "RESOURCE_FLUSH");
            var (directUs, directCommitted) = Timed(() => window.Present(frame, width, height, width * 4, PixelFormat.Bgrx, damage));
            if (round < GpuBench.Warmup)
                continue;
            if (!deviceCommitted || !directCommitted)
            {
                stashed++;
                continue;
            }
            device.Add(deviceUs);
            direct.Add(directUs);
        }
        return FormattableString.Invariant(
            $"{name}_median_us={GpuBench.Percentile(device, 50):0} {name}_p90_us={GpuBench.Percentile(device, 90):0} {name}_direct_median_us={GpuBench.Percentile(direct, 50):0} {name}_direct_p90_us={GpuBench.Percentile(direct, 90):0} {name}_stashed={stashed}");
    }

    /// <summary>
    /// Times one frame and tells whether it was committed (the window sets LastPresentTicks only then), then waits
    /// untimed until the compositor has taken the commit and released the older buffer.
    /// </summary>
    private (double Us, bool Committed) Timed(Action present)
    {
        long before = window.LastPresentTicks;
        long start = Stopwatch.GetTimestamp();
        present();
        double us = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        bool committed = window.LastPresentTicks != before;
        if (!window.Roundtrip(TimeSpan.FromSeconds(5)))
            throw new InvalidOperationException($"Weston stopped answering ({window.State}: {window.StateReason})\n{weston.Log}");
        return (us, committed);
    }
}
