using System.Globalization;
using System.Text;
using MiniVmm.Sys;
using MiniVmm.Wayland.Protocol;

namespace MiniVmm.Wayland;

/// <summary>Human-readable names for messages ("wl_surface.attach"), from the generated signature table.</summary>
public static class WireTrace
{
    /// <summary>"interface.message"; unknown parts show as "?" and "#opcode".</summary>
    public static string Describe(InterfaceInfo? iface, MessageDirection direction, ushort opcode)
    {
        var message = iface?.GetMessage(direction, opcode);
        return (iface?.Name ?? "?") + "." + (message?.Name ?? "#" + opcode.ToString(CultureInfo.InvariantCulture));
    }

    public static string Describe(string interfaceName, MessageDirection direction, ushort opcode) =>
        Describe(WaylandInterfaces.Find(interfaceName) ?? new InterfaceInfo(interfaceName, 0, [], []), direction, opcode);

    /// <summary>"wl_surface@3.attach(buffer: 7, x: 0, y: 0)"; a body that does not match the signature is marked, not thrown.</summary>
    public static string Format(
        InterfaceInfo? iface, uint objectId, MessageDirection direction, ushort opcode, ReadOnlySpan<byte> body)
    {
        var text = new StringBuilder();
        text.Append(iface?.Name ?? "?").Append('@').Append(objectId.ToString(CultureInfo.InvariantCulture)).Append('.');
        var message = iface?.GetMessage(direction, opcode);
        if (message is null)
            return text.Append('#').Append(opcode.ToString(CultureInfo.InvariantCulture)).Append($"({body.Length} bytes)").ToString();
        text.Append(message.Name).Append('(');
        var reader = new WireReader(body, null);
        for (var i = 0; i < message.Args.Count; i++)
        {
            var arg = message.Args[i];
            text.Append(i == 0 ? "" : ", ").Append(arg.Name).Append(": ");
            if (!AppendValue(text, arg, ref reader))
                return text.Append('<').Append(reader.Error.ToString()).Append(">)").ToString();
        }
        if (!reader.AtEnd)
            text.Append(" <TrailingBytes>");
        return text.Append(')').ToString();
    }

    private static bool AppendValue(StringBuilder text, ArgInfo arg, ref WireReader reader)
    {
        var invariant = CultureInfo.InvariantCulture;
        switch (arg.Type)
        {
            case WireArgType.Int:
                if (!reader.TryReadInt(out var i)) return false;
                text.Append(i.ToString(invariant));
                return true;
            case WireArgType.Fixed:
                if (!reader.TryReadFixed(out var f)) return false;
                text.Append(f.ToString());
                return true;
            case WireArgType.String:
                if (!reader.TryReadStringUtf8(arg.Nullable, out var s, out var isNull)) return false;
                text.Append(isNull ? "null" : "\"" + Encoding.UTF8.GetString(s) + "\"");
                return true;
            case WireArgType.Array:
                if (!reader.TryReadArray(out var a)) return false;
                text.Append("array[").Append(a.Length.ToString(invariant)).Append(']');
                return true;
            case WireArgType.Fd:
                text.Append("fd");
                return true;
            case WireArgType.NewId when arg.IsGenericNewId:
                if (!reader.TryReadStringUtf8(false, out var name, out _) || !reader.TryReadUInt(out var version)
                    || !reader.TryReadNewId(out var id))
                    return false;
                text.Append("new ").Append(Encoding.UTF8.GetString(name)).Append('@').Append(id.ToString(invariant))
                    .Append(" v").Append(version.ToString(invariant));
                return true;
            case WireArgType.NewId:
            case WireArgType.Object:
                if (!reader.TryReadObject(arg.Nullable, out var obj)) return false;
                text.Append(arg.Type == WireArgType.NewId ? "new " : "").Append(obj == 0 ? "null" : (arg.Interface ?? "?") + "@" + obj.ToString(invariant));
                return true;
            default:
                if (!reader.TryReadUInt(out var u)) return false;
                text.Append(u.ToString(invariant));
                return true;
        }
    }
}
