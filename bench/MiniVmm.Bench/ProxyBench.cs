using System.Diagnostics;
using System.Globalization;
using MiniVmm.Wayland.Tests.Support;

namespace MiniVmm.Bench;

/// <summary>
/// proxy: the guest proxy's code as tools/MiniVmm.ProxyHost runs it on the host (minivmm-proxy-host, NativeAOT, with
/// MiniVmm's device model in its own process)
/// between a plain libwayland client (bench/wl-client.c) and a headless Weston, against the same client connected to
/// the same Weston natively, in alternating blocks.
///   roundtrip: wl_display_roundtrip, each one timed by the client.
///   frames:    1920x1080 frames of two wl_shm buffers (full damage, then a 64x64 damage), each followed by a
///              wl_display_roundtrip; frames/s, and the pixel bytes the proxy copied per timed frame (from the line the
///              proxy logs when a client goes: a run of the untimed frames alone is subtracted).
/// </summary>
internal static class ProxyBench
{
    public static int Run(string[] args)
    {
        string proxy = Option(args, "--proxy"), client = Option(args, "--client");
        int runs = int.Parse(Option(args, "--runs", "50"), CultureInfo.InvariantCulture);
        using var weston = WestonCompositor.Start(1920, 1080);
        var socket = Path.Combine(weston.RuntimeDirectory, "proxy-bench");
        var log = new List<string>();
        using var process = StartProxy(proxy, socket, weston.SocketPath, log);
        try
        {
            // 1. wl_display_roundtrip: 10 timed blocks each way after one untimed pair
            var native = new List<double>();
            var proxied = new List<double>();
            int rounds = runs * 4;
            for (int block = 0; block <= 10; block++)
            {
                var n = Samples(RunClient(client, weston, weston.SocketPath, "roundtrip", rounds));
                var p = Samples(RunClient(client, weston, socket, "roundtrip", rounds));
                if (block == 0)
                    continue;
                native.AddRange(n);
                proxied.AddRange(p);
            }

            // 2. frames, full and 64x64 damage
            var figures = new List<string>();
            foreach (var (mode, frames) in new[] { ("full", Math.Max(20, runs * 2)), ("64", Math.Max(100, runs * 10)) })
            {
                double nativeSeconds = 0, proxySeconds = 0;
                long copied = 0, commits = 0;
                for (int block = 0; block < 3; block++)
                {
                    nativeSeconds += Seconds(RunClient(client, weston, weston.SocketPath, "frames", frames, mode));
                    // The untimed frames alone, then with the timed ones: the difference is what the timed frames copied.
                    var (warmBytes, warmCommits) = ProxiedFrames(client, weston, socket, log, 0, mode, out _);
                    var (bytes, count) = ProxiedFrames(client, weston, socket, log, frames, mode, out var seconds);
                    proxySeconds += seconds;
                    copied += bytes - warmBytes;
                    commits += count - warmCommits;
                }
                figures.Add(FormattableString.Invariant(
                    $"fps_{mode}={3 * frames / proxySeconds:0.0} native_fps_{mode}={3 * frames / nativeSeconds:0.0} copied_per_frame_{mode}={(double)copied / commits:0} frames_{mode}={3 * frames}"));
            }
            Console.WriteLine(FormattableString.Invariant(
                $"roundtrip_rounds={proxied.Count} roundtrip_median_us={GpuBench.Percentile(proxied, 50):0.0} roundtrip_p90_us={GpuBench.Percentile(proxied, 90):0.0} roundtrip_native_median_us={GpuBench.Percentile(native, 50):0.0} roundtrip_native_p90_us={GpuBench.Percentile(native, 90):0.0} {string.Join(' ', figures)}"));
            return 0;
        }
        finally
        {
            process.Kill();
            process.WaitForExit();
        }
    }

    /// <summary>One client run through the proxy: what the proxy says it copied for it, and the client's timed seconds.</summary>
    private static (long Bytes, long Commits) ProxiedFrames(string client, WestonCompositor weston, string socket, List<string> log, int frames, string mode, out double seconds)
    {
        int before = CopyLines(log).Count;
        seconds = Seconds(RunClient(client, weston, socket, "frames", frames, mode));
        return WaitForCopyLine(log, before);
    }

    private static Process StartProxy(string proxy, string socket, string compositor, List<string> log)
    {
        var start = new ProcessStartInfo(proxy) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "--socket", socket, "--wayland-socket", compositor })
            start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {proxy}");
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is { } text)
                lock (log)
                    log.Add(text);
        };
        process.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        while (!File.Exists(socket))
        {
            if (process.HasExited || clock.Elapsed > TimeSpan.FromSeconds(20))
                throw new InvalidOperationException($"the proxy did not listen on {socket}: {string.Join('\n', log)}");
            Thread.Sleep(20);
        }
        return process;
    }

    /// <summary>Runs the client to its end against <paramref name="display"/>; its stdout.</summary>
    private static string RunClient(string client, WestonCompositor weston, string display, params object[] args)
    {
        var start = new ProcessStartInfo(client) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
            start.ArgumentList.Add(Convert.ToString(arg, CultureInfo.InvariantCulture)!);
        start.Environment["XDG_RUNTIME_DIR"] = weston.RuntimeDirectory;
        start.Environment["WAYLAND_DISPLAY"] = display;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {client}");
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(120_000))
            throw new InvalidOperationException($"{client} {string.Join(' ', args)} did not finish");
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{client} {string.Join(' ', args)} on {display} failed: {errors.Result}");
        return output;
    }

    private static List<double> Samples(string output) =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => double.Parse(line, CultureInfo.InvariantCulture))];

    private static double Seconds(string output) =>
        double.Parse(output.Split("seconds=")[1].Trim(), CultureInfo.InvariantCulture);

    private static List<string> CopyLines(List<string> log)
    {
        lock (log)
            return log.Where(line => line.Contains("pixel bytes copied", StringComparison.Ordinal)).ToList();
    }

    /// <summary>The proxy logs its copy count when the client's session ends, just after the client exits.</summary>
    private static (long Bytes, long Commits) WaitForCopyLine(List<string> log, int before)
    {
        var clock = Stopwatch.StartNew();
        List<string> lines;
        while ((lines = CopyLines(log)).Count <= before)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(10))
                throw new InvalidOperationException("the proxy logged no copy count for the client");
            Thread.Sleep(10);
        }
        // "client N: B pixel bytes copied into host buffers over C commits"
        var words = lines[before].Split(' ');
        int at = Array.IndexOf(words, "pixel");
        return (long.Parse(words[at - 1], CultureInfo.InvariantCulture), long.Parse(words[^2], CultureInfo.InvariantCulture));
    }

    private static string Option(string[] args, string name, string? fallback = null)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback ?? throw new ArgumentException($"proxy needs {name}");
    }
}
