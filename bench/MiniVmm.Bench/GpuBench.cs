using System.Diagnostics;
using System.Globalization;
using MiniVmm.Gpu;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Machine.Display;
using MiniVmm.Wayland.Tests.Support;

namespace MiniVmm.Bench;

/// <summary>
/// virtio-gpu device-model benchmarks at 1920x1080 B8G8R8X8, each against a baseline measured in the same process,
/// interleaved round by round so that load from elsewhere hits both alike.
///   gpu-transfer: TRANSFER_TO_HOST_2D of the whole frame from 4 KiB guest pages (QueueNotify to return) vs one
///                 Span.CopyTo of the same 8,294,400 bytes between two host arrays.
///   gpu-flush:    RESOURCE_FLUSH from QueueNotify until the device returns, by which time the Wayland window has
///                 converted the damage into its shm buffer and sent wl_surface.commit to a real headless Weston,
///                 vs ScanoutWindow.Present of the same frame and damage called directly (the window's own share).
/// </summary>
internal static class GpuBench
{
    internal const uint Width = 1920, Height = 1080, ResourceId = 1;
    internal const int Warmup = 5;
    private const int FrameBytes = (int)(Width * Height * 4);
    private static readonly GpuOptions Options = new() { Width = (int)Width, Height = (int)Height };
    private static readonly VirtioGpuRect Full = new(0, 0, Width, Height);

    public static int Transfer(string[] args)
    {
        int runs = Runs(args, 50);
        using var driver = new GpuBenchDriver(Options, sink: null);
        var pages = driver.CreateBackedResource(ResourceId, Width, Height);
        var source = Pattern();
        var target = new byte[FrameBytes];
        driver.Memory.Write(pages, source);
        var device = new List<double>();
        var copy = new List<double>();
        for (int i = 0; i < Warmup + runs; i++)
        {
            var chain = driver.PostTransfer(ResourceId, Full);
            long start = Stopwatch.GetTimestamp();
            driver.Kick();
            double deviceMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            driver.ExpectOk(chain, "TRANSFER_TO_HOST_2D");
            start = Stopwatch.GetTimestamp();
            source.AsSpan().CopyTo(target);
            double copyMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (i >= Warmup)
            {
                device.Add(deviceMs);
                copy.Add(copyMs);
            }
        }
        double deviceMedian = Percentile(device, 50), copyMedian = Percentile(copy, 50);
        Console.WriteLine(FormattableString.Invariant(
            $"bytes={FrameBytes} runs={runs} device_ms={deviceMedian:0.000} copy_ms={copyMedian:0.000} device_mbps={Mbps(deviceMedian):0} copy_mbps={Mbps(copyMedian):0}"));
        return 0;
    }

    public static int Flush(string[] args)
    {
        int runs = Runs(args, 50);
        using var weston = WestonCompositor.Start((int)Width, (int)Height);
        using var display = WaylandDisplay.Open(weston.SocketPath);
        using var driver = new GpuBenchDriver(Options, display);
        var frame = Pattern();
        driver.Memory.Write(driver.CreateBackedResource(ResourceId, Width, Height), frame);
        driver.Complete(driver.PostTransfer(ResourceId, Full), "TRANSFER_TO_HOST_2D");
        driver.SetScanout(0, ResourceId, Full);
        var rounds = new GpuFlushRounds(driver, display.Window, weston, frame, runs);
        string full = rounds.Measure("full", Full);
        string partial = rounds.Measure("partial", new VirtioGpuRect(256, 256, 64, 64));
        Console.WriteLine($"runs={runs} {full} {partial}");
        return 0;
    }

    private static int Runs(string[] args, int fallback)
    {
        int at = Array.IndexOf(args, "--runs");
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>Non-constant bytes, so neither path can be shortcut by a zero page.</summary>
    private static byte[] Pattern()
    {
        var bytes = new byte[FrameBytes];
        for (int i = 0; i < bytes.Length; i++)
            bytes[i] = (byte)(i * 7 + (i >> 12));
        return bytes;
    }

    private static double Mbps(double ms) => FrameBytes / (ms / 1000) / 1e6;

    /// <summary>Nearest-rank percentile.</summary>
    internal static double Percentile(List<double> values, int percent)
    {
        var sorted = values.Order().ToList();
        int rank = Math.Max(1, (int)Math.Ceiling(percent / 100.0 * sorted.Count));
        return sorted[rank - 1];
    }
}
