using System.Diagnostics;

namespace MiniVmm.Wayland.Tests.Support;

/// <summary>Which Weston back end a test runs.</summary>
public enum WestonBackend
{
    /// <summary>headless-backend.so: no X server needed, but no wl_seat (so no keyboard and no keymap).</summary>
    Headless,

    /// <summary>x11-backend.so in a window of a private Xvfb: a real seat ("default", pointer and keyboard).</summary>
    X11,
}

/// <summary>The private Xvfb behind <see cref="WestonBackend.X11"/>.</summary>
public sealed partial class WestonCompositor
{
    private static readonly TimeSpan XvfbStartTimeout = TimeSpan.FromSeconds(15);

    private Process? _xvfb;
    private string? _xDisplay; // ":N" while an Xvfb of ours runs

    /// <summary>The private Xvfb's DISPLAY (x11 backend only): where synthetic X input (xdotool) reaches Weston.</summary>
    public string? XDisplay => _xDisplay;

    /// <summary>
    /// Starts Xvfb (under `timeout`, like Weston) and returns its DISPLAY. -displayfd 1 makes the server pick a free
    /// display number and print it on stdout once it accepts clients, so parallel tests never race for a number.
    /// </summary>
    private string StartXvfb(int width, int height)
    {
        if (FindOnPath("Xvfb") is null)
            throw new InvalidOperationException("Xvfb is not installed: apt-get install -y xvfb (tools/deps.sh installs it)");
        var screen = $"{Math.Max(width, 640)}x{Math.Max(height, 480)}x24";
        var start = Bounded("Xvfb", ["-displayfd", "1", "-screen", "0", screen, "-nolisten", "tcp"]);
        _xvfb = Process.Start(start) ?? throw new InvalidOperationException("could not start Xvfb");
        _xvfb.ErrorDataReceived += Collect;
        _xvfb.BeginErrorReadLine();
        var line = _xvfb.StandardOutput.ReadLineAsync();
        if (!line.Wait(XvfbStartTimeout) || !int.TryParse(line.Result, out var number))
            throw new InvalidOperationException($"Xvfb did not report a display within {XvfbStartTimeout.TotalSeconds} s\n{Log}");
        return ":" + number.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private void StopXvfb()
    {
        if (_xvfb is null)
            return;
        try
        {
            _xvfb.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _xvfb.WaitForExit(5000);
        _xvfb.Dispose();
        _xvfb = null;
        _xDisplay = null;
    }
}
