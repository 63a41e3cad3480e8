using System.Diagnostics;
using System.Text;

namespace MiniVmm.Wayland.Tests.Support;

/// <summary>
/// A private Weston 10 (Debian package "weston") for one test: headless backend (or, for a seat, the x11 backend
/// under a private Xvfb: <see cref="WestonBackend"/>) with the pixman renderer (the
/// default no-op renderer paints nothing, so screenshots would be blank), its own XDG_RUNTIME_DIR (mode 0700) and
/// socket, and --debug so that any client may bind weston_screenshooter, which weston-screenshooter uses to write
/// wayland-screenshot-*.png into its working directory.
/// </summary>
/// <remarks>
/// Shells: "desktop-shell.so" (default; panel and animations off, background <see cref="Background"/>) places a new
/// toplevel at a random spot that fits the output, so tests find their window by a marker colour
/// (<see cref="PngImage.Find"/>). "kiosk-shell.so" makes every
/// toplevel fullscreen and rejects one larger than the output, but Weston 10's kiosk shell never shows a surface
/// without a seat and the headless backend has none, so its screenshots stay black: use it for protocol checks only.
/// Lifetime: Weston runs under coreutils `timeout`, so even a crashed test host cannot leave it running for more
/// than <see cref="MaxLifetime"/>; <see cref="Dispose"/> kills the whole process tree and waits (bounded).
/// Shared by test projects: link Support/*.cs. No xUnit dependency.
/// </remarks>
public sealed partial class WestonCompositor : IDisposable
{
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromMinutes(10);

    /// <summary>The background colour <see cref="Config"/> asks for: what a screenshot shows outside windows.</summary>
    public static readonly (byte R, byte G, byte B) Background = (0x20, 0x40, 0x60);

    /// <summary>Pixels of <paramref name="shot"/> that are neither the desktop <see cref="Background"/> nor grey (panel,
    /// borders, black): what a client drew.</summary>
    public static int ClientPixels(PngImage shot)
    {
        var count = 0;
        for (var y = 0; y < shot.Height; y++)
        {
            for (var x = 0; x < shot.Width; x++)
            {
                var (r, g, b, _) = shot.GetPixel(x, y);
                if ((r, g, b) != Background && Math.Max(r, Math.Max(g, b)) - Math.Min(r, Math.Min(g, b)) > 48)
                    count++;
            }
        }
        return count;
    }

    // The desktop shell's defaults fade the whole screen in at start-up and draw a panel; both would spoil
    // exact-colour checks, so they are turned off. Unknown sections are ignored by other shells.
    private const string Config = """
        [core]
        idle-time=0

        [shell]
        startup-animation=none
        animation=none
        close-animation=none
        focus-animation=none
        panel-position=none
        background-color=0xff204060
        locking=false
        """;

    private static int _instances;
    private readonly StringBuilder _output = new();
    private Process? _process;
    private string[] _arguments = [];
    private int _screenshots;

    private WestonCompositor(string runtimeDirectory, string socketName, int width, int height)
    {
        RuntimeDirectory = runtimeDirectory;
        SocketName = socketName;
        Width = width;
        Height = height;
    }

    public string RuntimeDirectory { get; }

    /// <summary>The WAYLAND_DISPLAY value (a name inside <see cref="RuntimeDirectory"/>).</summary>
    public string SocketName { get; }

    /// <summary>The absolute socket path: what --wayland-socket takes.</summary>
    public string SocketPath => Path.Combine(RuntimeDirectory, SocketName);

    public int Width { get; }
    public int Height { get; }

    public bool HasExited => _process?.HasExited ?? true;

    /// <summary>Weston's log and console output so far, for assertion messages.</summary>
    public string Log
    {
        get
        {
            var logFile = Path.Combine(RuntimeDirectory, "weston.log");
            lock (_output)
                return (File.Exists(logFile) ? File.ReadAllText(logFile) : "") + _output;
        }
    }

    /// <summary>True when the weston binary is on PATH (the Debian package "weston" installs /usr/bin/weston).</summary>
    public static bool IsInstalled => FindOnPath("weston") is not null && FindOnPath("weston-screenshooter") is not null;

    /// <summary>Starts Weston and waits (bounded) for its socket.</summary>
    /// <param name="backend">Headless (no seat) unless a test needs a real wl_seat: <see cref="WestonBackend.X11"/>
    /// runs Weston in a window of a private Xvfb, which gives seat "default" with pointer and keyboard.</param>
    /// <exception cref="InvalidOperationException">Weston (or Xvfb) is missing, exits early, or does not create its socket in time.</exception>
    public static WestonCompositor Start(int width = 320, int height = 240, string shell = "desktop-shell.so", TimeSpan? timeout = null,
        WestonBackend backend = WestonBackend.Headless)
    {
        if (!IsInstalled)
            throw new InvalidOperationException("weston is not installed: apt-get install -y weston (Debian bookworm ships weston 10)");
        var runtimeDirectory = Directory.CreateTempSubdirectory("minivmm-weston-").FullName;
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(runtimeDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var socketName = $"wayland-test-{Environment.ProcessId}-{Interlocked.Increment(ref _instances)}";
        var config = Path.Combine(runtimeDirectory, "weston.ini");
        File.WriteAllText(config, Config);
        string[] arguments =
        [
            "--shell=" + shell, "--config=" + config, "--socket=" + socketName, $"--width={width}", $"--height={height}",
            "--idle-time=0", "--debug", "--log=" + Path.Combine(runtimeDirectory, "weston.log"),
        ];
        var weston = new WestonCompositor(runtimeDirectory, socketName, width, height);
        try
        {
            weston._xDisplay = backend == WestonBackend.X11 ? weston.StartXvfb(width, height) : null;
            weston._arguments = [weston._xDisplay is null ? "--backend=headless-backend.so" : "--backend=x11-backend.so", "--use-pixman", .. arguments];
            weston.Launch(timeout ?? TimeSpan.FromSeconds(15));
        }
        catch
        {
            weston.Dispose();
            throw;
        }
        return weston;
    }

    /// <summary>
    /// Starts a new Weston with the same arguments on the same socket (the previous one is killed first, as a crash
    /// would end it): what a user restarting their compositor does. Waits (bounded) for the new socket.
    /// </summary>
    public void Restart(TimeSpan? timeout = null)
    {
        Kill();
        _process?.Dispose();
        _process = null;
        // SIGKILL leaves the socket file behind; remove it so that waiting for the socket waits for the new Weston.
        File.Delete(SocketPath);
        Launch(timeout ?? TimeSpan.FromSeconds(15));
    }

    /// <summary>Runs weston-screenshooter against this compositor and decodes the PNG it writes (all outputs, one image).</summary>
    public PngImage TakeScreenshot(TimeSpan? timeout = null)
    {
        var directory = Path.Combine(RuntimeDirectory, $"screenshot-{Interlocked.Increment(ref _screenshots)}");
        Directory.CreateDirectory(directory);
        var start = new ProcessStartInfo("weston-screenshooter")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        SetClientEnvironment(start, RuntimeDirectory, SocketName);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start weston-screenshooter");
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(15)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException("weston-screenshooter did not finish in time\n" + Log);
        }
        var file = Directory.GetFiles(directory, "wayland-screenshot-*.png").FirstOrDefault()
            ?? throw new InvalidOperationException(
                $"weston-screenshooter exited {process.ExitCode} without a screenshot: {stderr.Result}\n{Log}");
        return PngImage.Load(file);
    }

    /// <summary>
    /// Screenshots until <paramref name="done"/> holds or <paramref name="timeout"/> (default 10 s) passes, and returns
    /// the last one: a commit the compositor has processed (a roundtrip) may still wait for its repaint.
    /// </summary>
    public PngImage TakeScreenshotWhen(Func<PngImage, bool> done, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var shot = TakeScreenshot();
            if (done(shot) || clock.Elapsed > (timeout ?? TimeSpan.FromSeconds(10)))
                return shot;
            Thread.Sleep(100);
        }
    }

    /// <summary>Kills Weston at once (SIGKILL, whole tree), as a crash would.</summary>
    public void Kill()
    {
        if (_process is null)
            return;
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process.WaitForExit(5000);
    }

    public void Dispose()
    {
        Kill();
        _process?.Dispose();
        StopXvfb();
        try
        {
            Directory.Delete(RuntimeDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless.
        }
    }

    private static void SetClientEnvironment(ProcessStartInfo start, string runtimeDirectory, string? display)
    {
        start.Environment["XDG_RUNTIME_DIR"] = runtimeDirectory;
        start.Environment.Remove("DISPLAY");
        if (display is null)
            start.Environment.Remove("WAYLAND_DISPLAY");
        else
            start.Environment["WAYLAND_DISPLAY"] = display;
    }

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, program))
            .FirstOrDefault(File.Exists);

    /// <summary>Runs weston with <see cref="_arguments"/> under `timeout` and waits for its socket.</summary>
    private void Launch(TimeSpan timeout)
    {
        var start = Bounded("weston", _arguments);
        SetClientEnvironment(start, RuntimeDirectory, null);
        if (_xDisplay is not null)
            start.Environment["DISPLAY"] = _xDisplay;
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start weston");
        _process.OutputDataReceived += Collect;
        _process.ErrorDataReceived += Collect;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        WaitForSocket(_process, timeout);
    }

    /// <summary>
    /// <paramref name="program"/> under coreutils `timeout`, so even a crashed test host cannot leave it running for
    /// more than <see cref="MaxLifetime"/>; output redirected, working directory the runtime directory.
    /// </summary>
    private ProcessStartInfo Bounded(string program, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("timeout")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RuntimeDirectory,
        };
        start.ArgumentList.Add("--kill-after=5");
        start.ArgumentList.Add(((int)MaxLifetime.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add(program);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        return start;
    }

    private void Collect(object sender, DataReceivedEventArgs line)
    {
        if (line.Data is null)
            return;
        lock (_output)
            _output.AppendLine(line.Data);
    }

    private void WaitForSocket(Process process, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!File.Exists(SocketPath))
        {
            if (process.HasExited)
                throw new InvalidOperationException($"weston exited with {process.ExitCode} before creating its socket\n{Log}");
            if (clock.Elapsed > timeout)
                throw new InvalidOperationException($"weston did not create {SocketPath} within {timeout.TotalSeconds} s\n{Log}");
            Thread.Sleep(20);
        }
    }
}
