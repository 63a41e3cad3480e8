using System.Collections.Generic;
using System.Linq;

namespace MiniVmm.Wayland.Generator;

/// <summary>
/// Emits <c>WaylandInterfaces</c>: an <c>InterfaceInfo</c> per interface and a lookup by name, so code that sees
/// only (interface, opcode) — tracing, the guest proxy — can name a message and walk its arguments.
/// </summary>
internal static class TableEmitter
{
    public static void Emit(CodeWriter code, IReadOnlyList<InterfaceModel> interfaces)
    {
        code.Line("/// <summary>Signatures of every generated interface.</summary>");
        code.Open("public static partial class WaylandInterfaces");
        foreach (var iface in interfaces)
        {
            code.Line($"/// <summary>{iface.Name} version {iface.Version}.</summary>");
            code.Line($"public static readonly InterfaceInfo {iface.ClassName} = new(");
            code.Line($"    {Naming.Literal(iface.Name)}, {iface.Version},");
            code.Line($"    {Messages(iface.Requests)},");
            code.Line($"    {Messages(iface.Events)});");
        }
        code.Line("/// <summary>All interfaces, in XML order.</summary>");
        code.Line($"public static IReadOnlyList<InterfaceInfo> All {{ get; }} = [{string.Join(", ", interfaces.Select(i => i.ClassName))}];");
        code.Line("/// <summary>The interface with this wire name, or null.</summary>");
        code.Open("public static InterfaceInfo? Find(string name) => name switch");
        foreach (var iface in interfaces)
            code.Line($"{Naming.Literal(iface.Name)} => {iface.ClassName},");
        code.Line("_ => null,");
        code.Close(";");
        code.Close();
    }

    private static string Messages(List<MessageModel> messages) =>
        "[" + string.Join(", ", messages.Select(Message)) + "]";

    private static string Message(MessageModel message)
    {
        var args = string.Join(", ", message.Args.Select(a =>
            $"new ArgInfo({Naming.Literal(a.Name)}, {ArgMapping.WireArgType(a)}, " +
            $"{(a.Interface is null ? "null" : Naming.Literal(a.Interface))}, {(a.AllowNull ? "true" : "false")})"));
        var destructor = message.IsDestructor ? "true" : "false";
        return $"new MessageInfo({Naming.Literal(message.Name)}, {message.Since}, {destructor}, [{args}])";
    }
}
