using System.Collections.Generic;

namespace MiniVmm.Wayland.Generator;

/// <summary>How one protocol argument becomes C# parameters, writer calls and reader calls.</summary>
internal static class ArgMapping
{
    /// <summary>Names the generated methods use themselves; an argument with one of them gets a suffix.</summary>
    private static readonly HashSet<string> Reserved = ["writer", "self", "handler", "reader", "opcode", "start"];

    public static string ParameterName(ArgModel arg)
    {
        var name = Naming.Camel(arg.Name);
        return Reserved.Contains(name) ? name + "Arg" : name;
    }

    /// <summary>The C# type of the argument; <paramref name="sending"/> picks SafeHandle (caller keeps ownership) over Fd (receiver owns it).</summary>
    public static string TypeOf(ArgModel arg, EnumResolver enums, string owner, bool sending) => arg.Type switch
    {
        "int" => enums.Resolve(owner, arg.Enum) ?? "int",
        "uint" => enums.Resolve(owner, arg.Enum) ?? "uint",
        "fixed" => "WlFixed",
        "string" => arg.AllowNull ? "string?" : "string",
        "array" => "ReadOnlySpan<byte>",
        "fd" => sending ? "SafeHandle" : "Fd",
        _ => "uint", // object, new_id
    };

    /// <summary>Parameter declarations; a generic new_id expands to the three values that travel on the wire.</summary>
    public static IEnumerable<string> Parameters(MessageModel message, EnumResolver enums, string owner, bool sending)
    {
        foreach (var arg in message.Args)
        {
            var name = ParameterName(arg);
            if (arg.IsGenericNewId)
            {
                yield return "string interfaceName";
                yield return "uint version";
            }
            yield return TypeOf(arg, enums, owner, sending) + " " + name;
        }
    }

    public static IEnumerable<string> Arguments(MessageModel message, EnumResolver enums, string owner)
    {
        foreach (var arg in message.Args)
        {
            var name = ParameterName(arg);
            if (arg.IsGenericNewId)
            {
                yield return "interfaceName!";
                yield return "version";
            }
            var enumType = enums.Resolve(owner, arg.Enum);
            yield return arg.Type switch
            {
                "string" when !arg.AllowNull => name + "!",
                "int" or "uint" when enumType is not null => $"({enumType}){name}",
                _ => name,
            };
        }
    }

    public static IEnumerable<string> WriteStatements(ArgModel arg, EnumResolver enums, string owner)
    {
        var name = ParameterName(arg);
        var isEnum = enums.Resolve(owner, arg.Enum) is not null;
        switch (arg.Type)
        {
            case "int": yield return isEnum ? $"writer.WriteInt((int){name});" : $"writer.WriteInt({name});"; break;
            case "uint": yield return isEnum ? $"writer.WriteUInt((uint){name});" : $"writer.WriteUInt({name});"; break;
            case "fixed": yield return $"writer.WriteFixed({name});"; break;
            case "string": yield return $"writer.WriteString({name});"; break;
            case "object": yield return $"writer.WriteObject({name});"; break;
            case "array": yield return $"writer.WriteArray({name});"; break;
            case "fd": yield return $"writer.WriteFd({name});"; break;
            default:
                if (arg.IsGenericNewId)
                {
                    yield return "writer.WriteString(interfaceName);";
                    yield return "writer.WriteUInt(version);";
                }
                yield return $"writer.WriteNewId({name});";
                break;
        }
    }

    /// <summary>Reads of the byte arguments (fds come from the fd queue afterwards, see the emitter).</summary>
    public static IEnumerable<string> ReadConditions(ArgModel arg)
    {
        var name = ParameterName(arg);
        var nullable = arg.AllowNull ? "true" : "false";
        switch (arg.Type)
        {
            case "int": yield return $"reader.TryReadInt(out int {name})"; break;
            case "uint": yield return $"reader.TryReadUInt(out uint {name})"; break;
            case "fixed": yield return $"reader.TryReadFixed(out WlFixed {name})"; break;
            case "string": yield return $"reader.TryReadString({nullable}, out string? {name})"; break;
            case "object": yield return $"reader.TryReadObject({nullable}, out uint {name})"; break;
            case "array": yield return $"reader.TryReadArray(out ReadOnlySpan<byte> {name})"; break;
            case "fd": break;
            default:
                if (arg.IsGenericNewId)
                {
                    yield return "reader.TryReadString(false, out string? interfaceName)";
                    yield return "reader.TryReadUInt(out uint version)";
                }
                yield return $"reader.TryReadNewId(out uint {name})";
                break;
        }
    }

    public static string WireArgType(ArgModel arg) => arg.Type switch
    {
        "int" => "WireArgType.Int",
        "uint" => "WireArgType.UInt",
        "fixed" => "WireArgType.Fixed",
        "string" => "WireArgType.String",
        "object" => "WireArgType.Object",
        "new_id" => "WireArgType.NewId",
        "array" => "WireArgType.Array",
        _ => "WireArgType.Fd",
    };
}
