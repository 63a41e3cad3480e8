using MiniVmm.Machine;
using MiniVmm.Machine.Display;
using MiniVmm.Wayland;

namespace MiniVmm;

/// <summary>--display and --wayland-socket, resolved to a display the machine can use (or none).</summary>
internal sealed record DisplayChoice(string Kind, string? SocketPath, bool Automatic = false)
{
    public static DisplayChoice None { get; } = new("none", null);

    /// <summary><paramref name="path"/> is the unnamed compositor socket, already defaulted (null: none).</summary>
    public static DisplayChoice Parse(string kind, string? path)
    {
        return kind switch
        {
            "none" => None,
            "wayland" when path is null => throw new UsageException("--display wayland: no compositor socket (set WAYLAND_DISPLAY and XDG_RUNTIME_DIR, or give --wayland-socket PATH)"),
            "wayland" => new DisplayChoice("wayland", path),
            "auto" => path is not null && File.Exists(path) ? new DisplayChoice("wayland", path, Automatic: true) : None,
            _ => throw new UsageException($"--display '{kind}' is not one of wayland, none, auto"),
        };
    }

    /// <summary>$XDG_RUNTIME_DIR/$WAYLAND_DISPLAY as the Wayland library resolves it; null without a runtime directory.</summary>
    public static string? DefaultSocket()
    {
        try
        {
            return WaylandSocketPath.Resolve(null);
        }
        catch (WaylandException)
        {
            return null; // no XDG_RUNTIME_DIR: there is no default compositor socket
        }
    }

    /// <summary>Opens the window; an unreachable compositor is bad input (one line, exit 2).</summary>
    public IDisplay? Open()
    {
        if (Kind != "wayland")
            return null;
        try
        {
            return WaylandDisplay.Open(SocketPath!, Console.Error);
        }
        catch (WaylandException error) when (Automatic)
        {
            Console.Error.WriteLine($"minivmm: {error.Message}; running headless");
            return null;
        }
        catch (WaylandException error)
        {
            throw new UsageException($"{error.Message} (use --display none to run headless)");
        }
    }
}
