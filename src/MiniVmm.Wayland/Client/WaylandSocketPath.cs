namespace MiniVmm.Wayland;

/// <summary>Where the compositor listens: --wayland-socket PATH, else $XDG_RUNTIME_DIR/$WAYLAND_DISPLAY (default wayland-0).</summary>
public static class WaylandSocketPath
{
    public const string DefaultDisplay = "wayland-0";

    /// <summary>
    /// Resolves the socket path. An absolute WAYLAND_DISPLAY is used as is (as libwayland does); a relative one needs
    /// XDG_RUNTIME_DIR, whose absence is a <see cref="WaylandException"/> telling the user what to pass instead.
    /// </summary>
    public static string Resolve(string? option, Func<string, string?>? environment = null)
    {
        if (!string.IsNullOrEmpty(option))
            return option;
        environment ??= Environment.GetEnvironmentVariable;
        var display = environment("WAYLAND_DISPLAY");
        if (string.IsNullOrEmpty(display))
            display = DefaultDisplay;
        if (display.StartsWith('/'))
            return display;
        var runtimeDirectory = environment("XDG_RUNTIME_DIR");
        if (string.IsNullOrEmpty(runtimeDirectory))
            throw new WaylandException($"XDG_RUNTIME_DIR is not set, so the Wayland socket {display} cannot be found; pass --wayland-socket PATH");
        return Path.Combine(runtimeDirectory, display);
    }
}
