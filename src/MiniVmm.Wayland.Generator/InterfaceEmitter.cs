using System.Collections.Generic;
using System.Linq;

namespace MiniVmm.Wayland.Generator;

/// <summary>
/// Emits one static class per interface: name, version, opcodes, enums, request senders, event emitters,
/// and for each direction a handler interface (no-op default methods) plus a decoder that calls it.
/// </summary>
internal static class InterfaceEmitter
{
    private static readonly string[] WriterPrefix = ["WireWriter writer", "uint self"];
    private static readonly string[] Self = ["self"];
    private static readonly string[] HandlerPrefix = ["uint self"];

    public static void Emit(CodeWriter code, InterfaceModel iface, EnumResolver enums)
    {
        Summary(code, iface.Summary);
        code.Open($"public static partial class {iface.ClassName}");
        code.Line("/// <summary>The interface name on the wire.</summary>");
        code.Line($"public const string Name = {Naming.Literal(iface.Name)};");
        code.Line("/// <summary>The highest version this build understands (from the XML).</summary>");
        code.Line($"public const uint Version = {iface.Version};");
        code.Line("/// <summary>Signatures of every request and event, for tracing and generic parsing.</summary>");
        code.Line($"public static InterfaceInfo Info => WaylandInterfaces.{iface.ClassName};");
        EmitOpcodes(code, "Requests", iface.Requests);
        EmitOpcodes(code, "Events", iface.Events);
        foreach (var e in iface.Enums)
            EmitEnum(code, e);
        foreach (var request in iface.Requests)
            EmitWriter(code, iface, request, request.MemberName, "Requests", enums);
        foreach (var ev in iface.Events)
            EmitWriter(code, iface, ev, "Emit" + ev.MemberName, "Events", enums);
        EmitHandler(code, iface, iface.Events, "IEventHandler", "DispatchEvent", "EventDispatcher", enums);
        EmitHandler(code, iface, iface.Requests, "IRequestHandler", "DispatchRequest", "RequestDispatcher", enums);
        code.Close();
    }

    /// <summary>wl_shell_surface has both a "resize" request and a "resize" enum; the enum yields.</summary>
    public static void RenameCollidingEnums(InterfaceModel iface)
    {
        var members = new HashSet<string>(iface.Requests.Select(r => r.MemberName))
        {
            "Name", "Version", "Info", "Requests", "Events", "IEventHandler", "IRequestHandler",
            "DispatchEvent", "DispatchRequest", "EventDispatcher", "RequestDispatcher",
        };
        foreach (var e in iface.Enums)
        {
            if (members.Contains(e.TypeName))
                e.TypeName += "Enum";
        }
    }

    private static void EmitOpcodes(CodeWriter code, string className, List<MessageModel> messages)
    {
        code.Line($"/// <summary>Opcodes of the {className.ToLowerInvariant()}, in XML order.</summary>");
        code.Open($"public static class {className}");
        foreach (var message in messages)
        {
            Summary(code, message.Summary);
            code.Line($"public const ushort {message.MemberName} = {message.Opcode};");
        }
        code.Close();
    }

    private static void EmitEnum(CodeWriter code, EnumModel e)
    {
        Summary(code, e.Summary);
        if (e.IsBitfield)
            code.Line("[Flags]");
        code.Open($"public enum {e.TypeName} : uint");
        foreach (var entry in e.Entries)
        {
            Summary(code, entry.Summary);
            code.Line($"{Naming.Pascal(entry.Name)} = 0x{entry.Value:X},");
        }
        code.Close();
    }

    private static void EmitWriter(
        CodeWriter code, InterfaceModel iface, MessageModel message, string method, string opcodes, EnumResolver enums)
    {
        Summary(code, message.Summary);
        var parameters = WriterPrefix
            .Concat(ArgMapping.Parameters(message, enums, iface.Name, sending: true));
        code.Open($"public static void {method}({string.Join(", ", parameters)})");
        code.Line($"int start = writer.BeginMessage(self, {opcodes}.{message.MemberName});");
        foreach (var arg in message.Args)
        {
            foreach (var statement in ArgMapping.WriteStatements(arg, enums, iface.Name))
                code.Line(statement);
        }
        code.Line("writer.EndMessage(start);");
        code.Close();
    }

    private static void EmitHandler(
        CodeWriter code, InterfaceModel iface, List<MessageModel> messages,
        string handlerName, string dispatchName, string dispatcherName, EnumResolver enums)
    {
        code.Line("/// <summary>Receives decoded messages; every method defaults to doing nothing (fds are closed).</summary>");
        code.Open($"public interface {handlerName}");
        foreach (var message in messages)
        {
            Summary(code, message.Summary);
            var parameters = HandlerPrefix.Concat(ArgMapping.Parameters(message, enums, iface.Name, sending: false));
            var fds = message.Args.Where(a => a.Type == "fd").Select(ArgMapping.ParameterName).ToList();
            var body = fds.Count == 0 ? "{ }" : "{ " + string.Concat(fds.Select(f => f + ".Dispose(); ")) + "}";
            code.Line($"void {message.MemberName}({string.Join(", ", parameters)}) {body}");
        }
        code.Close();

        code.Line("/// <summary>Decodes one message body and calls the handler; hostile bytes give an error value, never an exception.</summary>");
        code.Open($"public static WireError {dispatchName}({handlerName} handler, uint self, ushort opcode, ref WireReader reader)");
        code.Open("switch (opcode)");
        foreach (var message in messages)
            EmitCase(code, iface, message, enums);
        code.Line("default:");
        code.Line("    return WireError.UnknownOpcode;");
        code.Close();
        code.Close();

        code.Line("/// <summary>Adapts a handler to the connection's object table.</summary>");
        code.Line($"public static MessageDispatcher {dispatcherName}({handlerName} handler) =>");
        code.Line($"    (uint self, ushort opcode, ref WireReader reader) => {dispatchName}(handler, self, opcode, ref reader);");
    }

    private static void EmitCase(CodeWriter code, InterfaceModel iface, MessageModel message, EnumResolver enums)
    {
        code.Line($"case {message.Opcode}:");
        code.Open("");
        foreach (var arg in message.Args)
        {
            foreach (var condition in ArgMapping.ReadConditions(arg))
                code.Line($"if (!{condition}) return reader.Error;");
        }
        code.Line("if (!reader.AtEnd) return WireError.TrailingBytes;");
        // Fds are taken only once the bytes are known good, so a bad message leaves the queue for the caller to drain.
        var taken = new List<string>();
        foreach (var arg in message.Args.Where(a => a.Type == "fd"))
        {
            var name = ArgMapping.ParameterName(arg);
            var cleanup = string.Concat(taken.Select(t => t + ".Dispose(); "));
            code.Line($"if (!reader.TryTakeFd(out Fd? {name})) {{ {cleanup}return reader.Error; }}");
            taken.Add(name);
        }
        var arguments = Self.Concat(ArgMapping.Arguments(message, enums, iface.Name));
        code.Line($"handler.{message.MemberName}({string.Join(", ", arguments)});");
        code.Line("return WireError.None;");
        code.Close();
    }

    private static void Summary(CodeWriter code, string? summary)
    {
        if (summary is not null)
            code.Line($"/// <summary>{Naming.Doc(summary)}</summary>");
    }
}
