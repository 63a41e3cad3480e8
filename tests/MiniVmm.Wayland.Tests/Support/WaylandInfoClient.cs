using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace MiniVmm.Wayland.Tests.Support;

/// <summary>Debian's unmodified wayland-info (package wayland-utils), run against a compositor socket, and its globals.</summary>
public static partial class WaylandInfoClient
{
    public const string Program = "/usr/bin/wayland-info";

    public sealed record Result(bool Finished, int ExitCode, string Output, string Errors);

    /// <summary>Runs wayland-info on <paramref name="display"/> (an absolute socket path); killed after <paramref name="timeout"/>.</summary>
    /// <param name="waylandDebug">WAYLAND_DEBUG for the client ("1": its protocol trace on stderr).</param>
    public static Result Run(string runtimeDirectory, string display, TimeSpan timeout, string waylandDebug = "0")
    {
        if (!File.Exists(Program))
            throw new FileNotFoundException("wayland-info is missing: apt-get install -y wayland-utils (tools/deps.sh installs it)", Program);
        var start = new ProcessStartInfo(Program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["XDG_RUNTIME_DIR"] = runtimeDirectory;
        start.Environment["WAYLAND_DISPLAY"] = display;
        start.Environment["WAYLAND_DEBUG"] = waylandDebug;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start wayland-info");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
            return new Result(false, -1, output.Result, errors.Result);
        }
        return new Result(true, process.ExitCode, output.Result, errors.Result);
    }

    /// <summary>The "interface: 'name', version: n" lines, sorted (the order of globals is the compositor's, not ours to check).</summary>
    public static List<(string Name, int Version)> Globals(string output) =>
        [.. GlobalLine().Matches(output).Select(m => (m.Groups[1].Value, int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)))
            .Order()];

    [GeneratedRegex(@"interface: '([^']+)',\s*version:\s*(\d+)")]
    private static partial Regex GlobalLine();
}
