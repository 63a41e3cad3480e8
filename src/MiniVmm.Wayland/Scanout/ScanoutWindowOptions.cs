namespace MiniVmm.Wayland;

/// <summary>How a <see cref="ScanoutWindow"/> connects and reports.</summary>
public sealed class ScanoutWindowOptions
{
    /// <summary>The compositor socket; see <see cref="WaylandSocketPath.Resolve"/> for --wayland-socket and the environment.</summary>
    public required string SocketPath { get; init; }

    public string Title { get; init; } = "MiniVmm";

    public string AppId { get; init; } = "minivmm";

    /// <summary>
    /// True: the window runs its own dispatch thread. False: the owner's event loop polls <see cref="ScanoutWindow.PollHandle"/>
    /// (POLLIN, plus POLLOUT while <see cref="ScanoutWindow.WantsWrite"/>) and calls <see cref="ScanoutWindow.Dispatch"/>.
    /// </summary>
    public bool DispatchThread { get; init; } = true;

    /// <summary>Bounds each setup roundtrip with the compositor.</summary>
    public TimeSpan SetupTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>One line per notable event (<see cref="LogPrefix"/> first): errors, disconnection, close requests.</summary>
    public TextWriter? Log { get; init; }

    /// <summary>Starts every <see cref="Log"/> line: says which window speaks when there are several.</summary>
    public string LogPrefix { get; init; } = "wayland: ";

    /// <summary>Where the seat's keys, pointer motion, buttons and wheel go (null: the window binds no seat).</summary>
    public IWindowInput? Input { get; init; }

    /// <summary>Every Wayland message, both directions (the --trace wayland output).</summary>
    public TextWriter? Trace { get; init; }
}

/// <summary>Where a window is in its life; every state but <see cref="Running"/> is final.</summary>
public enum ScanoutWindowState
{
    Running,
    /// <summary>The user or the compositor asked the window to close (xdg_toplevel.close), or it was disposed.</summary>
    Closed,
    /// <summary>The compositor reported a protocol error (wl_display.error).</summary>
    Failed,
    /// <summary>The compositor went away (socket closed or reset).</summary>
    Disconnected,
}
