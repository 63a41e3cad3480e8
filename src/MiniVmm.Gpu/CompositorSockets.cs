namespace MiniVmm.Gpu;

/// <summary>A named compositor socket (--wayland-socket PATH,name=NAME) and the channel type the guest asks for it by.</summary>
public sealed record NamedCompositorSocket(string Name, string Path, uint Channel);

/// <summary>
/// The compositor sockets guest Wayland clients may reach: the unnamed default (cross-domain channel type 1, winsrv
/// channel 0 or 1) and up to <see cref="MaxNamed"/> named ones on MiniVmm channel types 20, 21, ... 31 in command-line
/// order. Types 2..19 keep their upstream meaning or stay free for it: crosvm gives 2 to its camera channel, and
/// libkrun/muvm and magma-gpu/rutabaga_gfx (src/cross_domain/cross_domain_protocol.rs) give 0x10 to PipeWire, 0x11 to
/// X11, 0x12/0x13 to the D-Bus session/system buses, so a muvm guest's bridge never reaches a Wayland socket here.
/// supported_channels is a u32 mask (bit 1 &lt;&lt; type), so 31 is the last type a guest can see. Immutable.
/// </summary>
public sealed class CompositorSockets
{
    /// <summary>CROSS_DOMAIN_CHANNEL_TYPE_WAYLAND: the unnamed socket.</summary>
    public const uint DefaultChannel = 1;

    /// <summary>Above every channel type a peer uses (the highest is 0x13, D-Bus system): see the class summary.</summary>
    public const uint FirstNamedChannel = 20;

    /// <summary>12 named sockets keep every channel bit (20..31) inside the 32-bit supported_channels mask.</summary>
    public const int MaxNamed = 12;

    public const int MaxNameLength = 31;

    private readonly NamedCompositorSocket[] _named;

    private CompositorSockets(string? defaultPath, NamedCompositorSocket[] named)
    {
        DefaultPath = defaultPath;
        _named = named;
    }

    /// <summary>No socket at all: every INIT and CONNECT fails cleanly.</summary>
    public static CompositorSockets None { get; } = new(null, []);

    /// <summary>Just the unnamed socket at <paramref name="path"/> (null: none), the common case and the tests'.</summary>
    public static CompositorSockets Only(string? path) => path is null ? None : new(path, []);

    /// <summary>The unnamed socket, or null when there is none.</summary>
    public string? DefaultPath { get; }

    public IReadOnlyList<NamedCompositorSocket> Named => _named;

    /// <summary>supported_channels of the cross-domain capset: bit (1 &lt;&lt; type) for every configured socket.</summary>
    public uint SupportedChannels =>
        _named.Aggregate(DefaultPath is null ? 0u : 1u << (int)DefaultChannel, (mask, socket) => mask | 1u << (int)socket.Channel);

    /// <summary>The path for channel type <paramref name="channel"/>; null when that channel is not configured.</summary>
    public string? PathFor(uint channel) =>
        channel == DefaultChannel ? DefaultPath : Array.Find(_named, socket => socket.Channel == channel)?.Path;

    /// <summary>Why channel <paramref name="channel"/> has no socket, for the failure line.</summary>
    public static string NotConfigured(uint channel) => channel == DefaultChannel
        ? "no compositor socket is configured (--wayland-socket)"
        : $"channel type {channel} has no compositor socket (named ones start at {FirstNamedChannel})";

    /// <summary>"minivmm.wayland_channels=NAME:20,OTHER:21" for the guest, or null without named sockets.</summary>
    public string? KernelArgument => _named.Length == 0
        ? null
        : "minivmm.wayland_channels=" + string.Join(',', _named.Select(socket => $"{socket.Name}:{socket.Channel}"));

    /// <summary>One line per socket for --verbose.</summary>
    public IEnumerable<string> Describe()
    {
        if (DefaultPath is not null)
            yield return $"wayland socket (default) -> {DefaultPath} (cross-domain channel {DefaultChannel})";
        foreach (var socket in _named)
            yield return $"wayland socket {socket.Name} -> {socket.Path} (cross-domain channel {socket.Channel})";
    }

    /// <summary>
    /// Reads --wayland-socket values of the form PATH[,name=NAME]. Without an unnamed one, <paramref name="defaultPath"/>
    /// supplies it ($XDG_RUNTIME_DIR/$WAYLAND_DISPLAY, or null). Paths cannot contain commas.
    /// </summary>
    public static bool TryParse(IEnumerable<string> values, Func<string?> defaultPath, out CompositorSockets sockets, out string? error)
    {
        sockets = None;
        string? unnamed = null;
        var named = new List<NamedCompositorSocket>();
        foreach (string value in values)
        {
            error = ParseOne(value, out string path, out string? name);
            if (error is null && name is null && unnamed is not null)
                error = "only one socket may be unnamed (give the others name=NAME)";
            else if (error is null && name is not null && named.Exists(socket => socket.Name == name))
                error = $"name '{name}' is given twice";
            else if (error is null && name is not null && named.Count == MaxNamed)
                error = $"at most {MaxNamed} named sockets";
            if (error is not null)
            {
                error = $"'{value}': {error}";
                return false;
            }
            if (name is null)
                unnamed = path;
            else
                named.Add(new NamedCompositorSocket(name, path, FirstNamedChannel + (uint)named.Count));
        }
        error = null;
        sockets = new CompositorSockets(unnamed ?? defaultPath(), [.. named]);
        return true;
    }

    private static string? ParseOne(string value, out string path, out string? name)
    {
        string[] parts = value.Split(',');
        path = parts[0];
        name = null;
        if (path.Length == 0)
            return "the path is empty (expected PATH[,name=NAME])";
        foreach (string option in parts.Skip(1))
        {
            if (!option.StartsWith("name=", StringComparison.Ordinal))
                return $"'{option}' is not name=NAME (expected PATH[,name=NAME]; paths cannot contain commas)";
            if (name is not null)
                return "name= is given twice";
            name = option["name=".Length..];
            if (!IsValidName(name))
                return $"name '{name}' must be 1 to {MaxNameLength} characters of A-Z a-z 0-9 _ . -";
        }
        return null;
    }

    private static bool IsValidName(string name) =>
        name.Length is > 0 and <= MaxNameLength && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-');
}
