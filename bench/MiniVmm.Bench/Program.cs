using System.Diagnostics;
using System.Globalization;
using MiniVmm.Firmware;

namespace MiniVmm.Bench;

/// <summary>
/// The helper behind bench/run.sh. Commands (each prints one key=value line that run.sh reads):
///   write-payloads DIR [N...]   exit0.elf, pio-N.elf for each N (default 1000 200000), qemu-exit.bin
///   startup --runs R [--warmup W] [--expect-exit C] -- CMD ARGS...
///                               runs CMD W (default 1) times unmeasured, then R times, start to exit
///   until-line --log FILE --timeout S [--until TEXT]... [--stop-on TEXT]... -- CMD ARGS...
///                               runs CMD once with stdout+stderr merged into FILE, each line prefixed
///                               with the milliseconds since start; kills CMD at the first line that
///                               contains an --until or --stop-on text, or at the timeout
///   last-common BASELINE_LOG PRODUCT_LOG
///                               the last kernel console line of the baseline log that the product log
///                               also printed, and the time each reached it
///   gpu-transfer [--runs R]     TRANSFER_TO_HOST_2D throughput of a 1920x1080 frame vs Span.CopyTo (<see cref="GpuBench"/>)
///   gpu-flush [--runs R]        RESOURCE_FLUSH to wl_surface.commit on a headless Weston, full and 64x64 damage
///   budget                      host memory held under each hostile-guest attack vs the max-host-memory budget (<see cref="BudgetBench"/>)
///   winsrv [--runs R]           cross-domain host half vs a native client on one headless Weston: wl_display.sync
///                               round trip, 1080p frames through a HOST3D-blob wl_shm pool, SEND throughput
///   proxy --proxy BIN --client BIN [--runs R]
///                               the shipped guest proxy between a libwayland client and a headless Weston vs the
///                               same client native: wl_display_roundtrip, 1080p frames (full and 64x64 damage)
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        try
        {
            return args.Length == 0 ? Usage() : args[0] switch
            {
                "write-payloads" => WritePayloads(args[1..]),
                "startup" => Startup(args[1..]),
                "until-line" => UntilLine(args[1..]),
                "last-common" => LastCommon(args[1..]),
                "gpu-transfer" => GpuBench.Transfer(args[1..]),
                "gpu-flush" => GpuBench.Flush(args[1..]),
                "winsrv" => CrossDomainBench.Run(args[1..]),
                "budget" => BudgetBench.Run(args[1..]),
                "proxy" => ProxyBench.Run(args[1..]),
                _ => Usage(),
            };
        }
        catch (ArgumentException error)
        {
            Console.Error.WriteLine($"minivmm-bench: {error.Message}");
            return 2;
        }
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: minivmm-bench write-payloads DIR [N...] | startup --runs R [--warmup W] [--expect-exit C] -- CMD... | until-line --log F --timeout S [--until T]... [--stop-on T]... -- CMD... | last-common BASELINE_LOG PRODUCT_LOG | gpu-transfer [--runs R] | gpu-flush [--runs R] | winsrv [--runs R] | budget | proxy --proxy BIN --client BIN [--runs R]");
        return 2;
    }

    private static int WritePayloads(string[] args)
    {
        if (args.Length < 1)
            throw new ArgumentException("write-payloads needs a directory");
        string dir = args[0];
        Directory.CreateDirectory(dir);
        var counts = args.Length > 1 ? args[1..].Select(a => uint.Parse(a, CultureInfo.InvariantCulture)).ToArray() : [1000u, 200_000u];
        File.WriteAllBytes(Path.Combine(dir, "exit0.elf"), Payloads.SerialHello("", 0));
        foreach (uint n in counts)
            File.WriteAllBytes(Path.Combine(dir, $"pio-{n}.elf"), Payloads.PioExits(n));
        File.WriteAllBytes(Path.Combine(dir, "qemu-exit.bin"), QemuExitBios());
        Console.WriteLine($"payloads={dir} exit0.elf {string.Join(' ', counts.Select(n => $"pio-{n}.elf"))} qemu-exit.bin");
        return 0;
    }

    /// <summary>
    /// A 64 KiB BIOS image for QEMU (-bios): the CPU starts at F000:FFF0, the image's last 16 bytes,
    /// where this writes 0 to isa-debug-exit's default port 0xF4 (QEMU exits with status (0 &lt;&lt; 1) | 1 = 1).
    /// </summary>
    public static byte[] QemuExitBios()
    {
        var image = new byte[64 * 1024];
        Array.Fill(image, (byte)0xF4); // hlt everywhere else
        byte[] resetVector =
        [
            0xB0, 0x00,       // mov al, 0
            0xE6, 0xF4,       // out 0xf4, al
            0xFA,             // cli
            0xF4,             // hlt
            0xEB, 0xFD,       // jmp short to hlt
        ];
        resetVector.CopyTo(image, image.Length - 16);
        return image;
    }

    private sealed record CommandSpec(Dictionary<string, List<string>> Options, string[] Command);

    private static CommandSpec ParseCommand(string[] args)
    {
        int separator = Array.IndexOf(args, "--");
        if (separator < 0 || separator == args.Length - 1)
            throw new ArgumentException("give the command to run after --");
        var options = new Dictionary<string, List<string>>();
        for (int i = 0; i < separator; i += 2)
        {
            if (i + 1 >= separator || !args[i].StartsWith("--", StringComparison.Ordinal))
                throw new ArgumentException($"bad option '{args[i]}'");
            if (!options.TryGetValue(args[i], out var values))
                options[args[i]] = values = [];
            values.Add(args[i + 1]);
        }
        return new CommandSpec(options, args[(separator + 1)..]);
    }

    private static string? One(CommandSpec spec, string name) =>
        spec.Options.TryGetValue(name, out var values) ? values[^1] : null;

    private static ProcessStartInfo StartInfo(string[] command)
    {
        var info = new ProcessStartInfo(command[0])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in command[1..])
            info.ArgumentList.Add(arg);
        return info;
    }

    private static int Startup(string[] args)
    {
        var spec = ParseCommand(args);
        int runs = int.Parse(One(spec, "--runs") ?? "10", CultureInfo.InvariantCulture);
        int warmup = int.Parse(One(spec, "--warmup") ?? "1", CultureInfo.InvariantCulture);
        int? expect = One(spec, "--expect-exit") is { } e ? int.Parse(e, CultureInfo.InvariantCulture) : null;
        var times = new List<double>();
        for (int i = 0; i < warmup + runs; i++)
        {
            var output = new List<string>();
            var stopwatch = Stopwatch.StartNew();
            using var process = Process.Start(StartInfo(spec.Command))!;
            process.StandardInput.Close();
            process.OutputDataReceived += (_, line) => { if (line.Data is not null) lock (output) output.Add(line.Data); };
            process.ErrorDataReceived += (_, line) => { if (line.Data is not null) lock (output) output.Add(line.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            process.WaitForExit();
            double ms = stopwatch.Elapsed.TotalMilliseconds;
            if (expect is { } code && process.ExitCode != code)
            {
                Console.Error.WriteLine($"minivmm-bench: {spec.Command[0]} exited {process.ExitCode}, expected {code}:");
                lock (output)
                    foreach (var line in output.TakeLast(20))
                        Console.Error.WriteLine("  " + line);
                return 1;
            }
            if (i >= warmup) // warm-up runs fill the page cache
                times.Add(ms);
        }
        times.Sort();
        double median = times.Count % 2 == 1 ? times[times.Count / 2] : (times[times.Count / 2 - 1] + times[times.Count / 2]) / 2;
        Console.WriteLine(FormattableString.Invariant($"median_ms={median:0.000} min_ms={times[0]:0.000} max_ms={times[^1]:0.000} runs={times.Count}"));
        return 0;
    }

    private static int UntilLine(string[] args)
    {
        var spec = ParseCommand(args);
        string log = One(spec, "--log") ?? throw new ArgumentException("until-line needs --log FILE");
        double timeout = double.Parse(One(spec, "--timeout") ?? "300", CultureInfo.InvariantCulture);
        var until = spec.Options.GetValueOrDefault("--until") ?? [];
        var stopOn = spec.Options.GetValueOrDefault("--stop-on") ?? [];

        using var writer = new StreamWriter(log) { AutoFlush = true };
        var gate = new object();
        string reason = "exit";
        double? hitMs = null;
        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(StartInfo(spec.Command))!;
        process.StandardInput.Close();
        void OnLine(string? data)
        {
            if (data is null)
                return;
            double ms = stopwatch.Elapsed.TotalMilliseconds;
            lock (gate)
            {
                writer.WriteLine(FormattableString.Invariant($"{ms:0.0}\t{data}"));
                if (hitMs is not null)
                    return;
                string? marker = until.Concat(stopOn).FirstOrDefault(t => data.Contains(t, StringComparison.Ordinal));
                if (marker is null)
                    return;
                hitMs = ms;
                reason = until.Contains(marker) ? "until" : "stop-on";
            }
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // already gone
            }
        }
        process.OutputDataReceived += (_, line) => OnLine(line.Data);
        process.ErrorDataReceived += (_, line) => OnLine(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromSeconds(timeout)))
        {
            lock (gate)
                reason = hitMs is null ? "timeout" : reason;
            process.Kill(entireProcessTree: true);
        }
        process.WaitForExit(); // drains the output handlers
        double exitMs = stopwatch.Elapsed.TotalMilliseconds;
        lock (gate)
            Console.WriteLine(FormattableString.Invariant($"reason={reason} hit_ms={(hitMs is { } h ? h.ToString("0.0", CultureInfo.InvariantCulture) : "-")} exit_ms={exitMs:0.0} exit_code={process.ExitCode}"));
        return 0;
    }

    /// <summary>A console line without its printk timestamp ("[    1.234567] "), the part both guests print alike.</summary>
    private static string? KernelText(string line)
    {
        int start = line.IndexOf('[', StringComparison.Ordinal);
        int end = line.IndexOf("] ", StringComparison.Ordinal);
        if (start < 0 || end < start)
            return null;
        string stamp = line[(start + 1)..end].Trim();
        if (!double.TryParse(stamp, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            return null;
        string text = line[(end + 2)..].TrimEnd();
        return text.Length > 0 ? text : null;
    }

    private static List<(double Ms, string Text)> ReadLog(string path) =>
        File.ReadLines(path)
            .Select(line => line.Split('\t', 2))
            .Where(parts => parts.Length == 2)
            .Select(parts => (Ms: double.Parse(parts[0], CultureInfo.InvariantCulture), Text: KernelText(parts[1])))
            .Where(entry => entry.Text is not null)
            .Select(entry => (entry.Ms, entry.Text!))
            .ToList();

    private static int LastCommon(string[] args)
    {
        if (args.Length != 2)
            throw new ArgumentException("last-common needs BASELINE_LOG PRODUCT_LOG");
        var baseline = ReadLog(args[0]);
        var product = ReadLog(args[1]);
        var productFirst = new Dictionary<string, double>();
        foreach (var (ms, text) in product)
            productFirst.TryAdd(text, ms);
        for (int i = baseline.Count - 1; i >= 0; i--)
        {
            if (productFirst.TryGetValue(baseline[i].Text, out double productMs))
            {
                Console.WriteLine(FormattableString.Invariant($"baseline_ms={baseline[i].Ms:0.0} product_ms={productMs:0.0} line={baseline[i].Text}"));
                return 0;
            }
        }
        Console.WriteLine("baseline_ms=- product_ms=- line=-");
        return 1;
    }
}
