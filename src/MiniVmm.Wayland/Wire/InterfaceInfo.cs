using MiniVmm.Sys;

namespace MiniVmm.Wayland;

/// <summary>An interface's signatures as generated from the XML (see <c>WaylandInterfaces</c>).</summary>
public sealed class InterfaceInfo(string name, uint version, MessageInfo[] requests, MessageInfo[] events)
{
    public string Name { get; } = name;
    public uint Version { get; } = version;
    public IReadOnlyList<MessageInfo> Requests { get; } = requests;
    public IReadOnlyList<MessageInfo> Events { get; } = events;

    /// <summary>The request or event with this opcode, or null when the opcode is out of range.</summary>
    public MessageInfo? GetMessage(MessageDirection direction, ushort opcode)
    {
        var messages = direction == MessageDirection.Request ? Requests : Events;
        return opcode < messages.Count ? messages[opcode] : null;
    }

    public override string ToString() => Name;
}

/// <summary>One request or event: its name, the version that introduced it, and its arguments.</summary>
public sealed class MessageInfo(string name, uint since, bool isDestructor, ArgInfo[] args)
{
    public string Name { get; } = name;
    public uint Since { get; } = since;
    public bool IsDestructor { get; } = isDestructor;
    public IReadOnlyList<ArgInfo> Args { get; } = args;

    /// <summary>How many fds the message takes from the fd queue.</summary>
    public int FdCount { get; } = args.Count(a => a.Type == WireArgType.Fd);

    /// <summary>Walks the body against the signature (fds excluded): what a relay checks before forwarding.</summary>
    public WireError Validate(ReadOnlySpan<byte> body)
    {
        var reader = new WireReader(body, null);
        foreach (var arg in Args)
        {
            if (!arg.TrySkip(ref reader))
                return reader.Error;
        }
        return reader.AtEnd ? WireError.None : WireError.TrailingBytes;
    }

    public override string ToString() => Name;
}

/// <summary>
/// One argument. A <see cref="WireArgType.NewId"/> with a null <see cref="Interface"/> (wl_registry.bind) occupies
/// three wire values: interface name string, version, id.
/// </summary>
public sealed class ArgInfo(string name, WireArgType type, string? @interface, bool nullable)
{
    public string Name { get; } = name;
    public WireArgType Type { get; } = type;
    public string? Interface { get; } = @interface;
    public bool Nullable { get; } = nullable;
    public bool IsGenericNewId => Type == WireArgType.NewId && Interface is null;

    /// <summary>Reads past this argument (fds take no bytes); false when the body ends or is malformed.</summary>
    public bool TrySkip(ref WireReader reader)
    {
        switch (Type)
        {
            case WireArgType.String:
                return reader.TryReadStringUtf8(Nullable, out _, out _);
            case WireArgType.Array:
                return reader.TryReadArray(out _);
            case WireArgType.Object:
                return reader.TryReadObject(Nullable, out _);
            case WireArgType.NewId:
                return (!IsGenericNewId || (reader.TryReadStringUtf8(false, out _, out _) && reader.TryReadUInt(out _)))
                    && reader.TryReadNewId(out _);
            case WireArgType.Fd:
                return true;
            default:
                return reader.TryReadUInt(out _);
        }
    }

    public override string ToString() => Name;
}
