using System.Text;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;

namespace MiniVmm.Gpu.CrossDomain;

/// <summary>
/// Decodes the Wayland bytes of one connection for --trace ("wl_compositor@3.create_surface(id: new wl_surface@5)").
/// Follows new_id arguments (and wl_display.delete_id) to know each object's interface; keeps a partial message per
/// direction until the rest arrives. Only used while tracing; never affects what is forwarded.
/// </summary>
internal sealed class WaylandTraceDecoder
{
    private readonly Dictionary<uint, InterfaceInfo> _objects = [];
    private readonly List<byte>[] _pending = [[], []];

    public WaylandTraceDecoder()
    {
        if (WaylandInterfaces.Find(WlDisplay.Name) is { } display)
            _objects[1] = display;
    }

    /// <summary>Calls <paramref name="trace"/> with <paramref name="prefix"/> + each whole message in <paramref name="data"/>.</summary>
    public void Decode(MessageDirection direction, ReadOnlySpan<byte> data, string prefix, Action<string> trace)
    {
        var pending = _pending[direction == MessageDirection.Request ? 0 : 1];
        pending.AddRange(data);
        var bytes = pending.ToArray();
        var offset = 0;
        WireMessage message;
        WireError error;
        while (WireMessage.TryParse(bytes.AsSpan(offset), out message, out error))
        {
            _objects.TryGetValue(message.ObjectId, out var iface);
            trace(prefix + WireTrace.Format(iface, message.ObjectId, direction, message.Opcode, message.Body));
            Follow(iface, direction, message.Opcode, message.Body);
            offset += message.Size;
        }
        pending.RemoveRange(0, offset);
        if (error != WireError.None)
        {
            trace(prefix + $"<{error}: {pending.Count} undecodable bytes dropped from the trace>");
            pending.Clear();
        }
    }

    private void Follow(InterfaceInfo? iface, MessageDirection direction, ushort opcode, ReadOnlySpan<byte> body)
    {
        if (iface?.GetMessage(direction, opcode) is not { } info)
            return;
        var reader = new WireReader(body, null);
        if (iface.Name == WlDisplay.Name && direction == MessageDirection.Event && info.Name == "delete_id")
        {
            if (reader.TryReadUInt(out var gone))
                _objects.Remove(gone);
            return;
        }
        foreach (var arg in info.Args)
        {
            if (arg.IsGenericNewId)
            {
                if (!reader.TryReadStringUtf8(false, out var name, out _) || !reader.TryReadUInt(out _) || !reader.TryReadNewId(out var id))
                    return;
                if (WaylandInterfaces.Find(Encoding.UTF8.GetString(name)) is { } bound)
                    _objects[id] = bound;
            }
            else if (arg.Type == WireArgType.NewId)
            {
                if (!reader.TryReadNewId(out var id))
                    return;
                if (WaylandInterfaces.Find(arg.Interface!) is { } created)
                    _objects[id] = created;
            }
            else if (!Skip(arg, ref reader))
                return;
        }
    }

    private static bool Skip(ArgInfo arg, ref WireReader reader) => arg.Type switch
    {
        WireArgType.String => reader.TryReadStringUtf8(arg.Nullable, out _, out _),
        WireArgType.Array => reader.TryReadArray(out _),
        WireArgType.Object => reader.TryReadObject(arg.Nullable, out _),
        WireArgType.Fd => true,
        _ => reader.TryReadUInt(out _),
    };
}
