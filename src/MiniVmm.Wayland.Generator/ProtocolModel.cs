using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Xml.Linq;

namespace MiniVmm.Wayland.Generator;

/// <summary>One protocol XML file (wayland.xml, xdg-shell.xml, ...), as far as code generation needs it.</summary>
internal sealed class ProtocolModel(string name, List<InterfaceModel> interfaces)
{
    public string Name { get; } = name;
    public List<InterfaceModel> Interfaces { get; } = interfaces;

    /// <summary>Reads the XML; malformed input throws <see cref="ProtocolFormatException"/> so the generator can report it.</summary>
    public static ProtocolModel Parse(string xml)
    {
        XDocument document;
        try
        {
            document = XDocument.Parse(xml);
        }
        catch (System.Xml.XmlException e)
        {
            throw new ProtocolFormatException("not well-formed XML: " + e.Message);
        }
        var root = document.Root;
        if (root is null || root.Name.LocalName != "protocol")
            throw new ProtocolFormatException("the root element is not <protocol>");
        var interfaces = root.Elements("interface").Select(ParseInterface).ToList();
        return new ProtocolModel(Required(root, "name"), interfaces);
    }

    private static InterfaceModel ParseInterface(XElement element)
    {
        var name = Required(element, "name");
        var model = new InterfaceModel(name, ParseUInt(Required(element, "version"), name), Summary(element));
        foreach (var child in element.Elements())
        {
            switch (child.Name.LocalName)
            {
                case "request": model.Requests.Add(ParseMessage(child, model.Requests.Count)); break;
                case "event": model.Events.Add(ParseMessage(child, model.Events.Count)); break;
                case "enum": model.Enums.Add(ParseEnum(child)); break;
            }
        }
        return model;
    }

    private static MessageModel ParseMessage(XElement element, int opcode)
    {
        var name = Required(element, "name");
        var since = (string?)element.Attribute("since");
        var message = new MessageModel(
            name,
            opcode,
            since is null ? 1 : ParseUInt(since, name),
            (string?)element.Attribute("type") == "destructor",
            Summary(element));
        foreach (var arg in element.Elements("arg"))
        {
            var type = Required(arg, "type");
            if (!ArgModel.KnownTypes.Contains(type))
                throw new ProtocolFormatException($"argument '{Required(arg, "name")}' of '{name}' has unknown type '{type}'");
            message.Args.Add(new ArgModel(
                Required(arg, "name"),
                type,
                (string?)arg.Attribute("interface"),
                (string?)arg.Attribute("allow-null") == "true",
                (string?)arg.Attribute("enum"),
                (string?)arg.Attribute("summary")));
        }
        return message;
    }

    private static EnumModel ParseEnum(XElement element)
    {
        var name = Required(element, "name");
        var model = new EnumModel(name, (string?)element.Attribute("bitfield") == "true", Summary(element));
        foreach (var entry in element.Elements("entry"))
        {
            var entryName = Required(entry, "name");
            model.Entries.Add(new EntryModel(
                entryName, ParseUInt(Required(entry, "value"), entryName), (string?)entry.Attribute("summary")));
        }
        return model;
    }

    private static string Required(XElement element, string attribute) =>
        (string?)element.Attribute(attribute)
        ?? throw new ProtocolFormatException($"<{element.Name.LocalName}> lacks the '{attribute}' attribute");

    private static string? Summary(XElement element) =>
        (string?)element.Element("description")?.Attribute("summary");

    private static uint ParseUInt(string text, string owner)
    {
        var ok = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? uint.TryParse(text.Substring(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var value)
            : uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        return ok ? value : throw new ProtocolFormatException($"'{text}' in '{owner}' is not an unsigned number");
    }
}

internal sealed class InterfaceModel(string name, uint version, string? summary)
{
    public string Name { get; } = name;
    public uint Version { get; } = version;
    public string? Summary { get; } = summary;
    public string ClassName { get; } = Naming.Pascal(name);
    public List<MessageModel> Requests { get; } = [];
    public List<MessageModel> Events { get; } = [];
    public List<EnumModel> Enums { get; } = [];
}

internal sealed class MessageModel(string name, int opcode, uint since, bool isDestructor, string? summary)
{
    public string Name { get; } = name;
    public int Opcode { get; } = opcode;
    public uint Since { get; } = since;
    public bool IsDestructor { get; } = isDestructor;
    public string? Summary { get; } = summary;
    public string MemberName { get; } = Naming.Pascal(name);
    public List<ArgModel> Args { get; } = [];
}

internal sealed class ArgModel(string name, string type, string? @interface, bool allowNull, string? @enum, string? summary)
{
    public static readonly HashSet<string> KnownTypes =
        ["int", "uint", "fixed", "string", "object", "new_id", "array", "fd"];

    public string Name { get; } = name;
    public string Type { get; } = type;
    public string? Interface { get; } = @interface;
    public bool AllowNull { get; } = allowNull;
    public string? Enum { get; } = @enum;
    public string? Summary { get; } = summary;

    /// <summary>A new_id without an interface (wl_registry.bind) travels as (string interface, uint version, uint id).</summary>
    public bool IsGenericNewId => Type == "new_id" && Interface is null;
}

internal sealed class EnumModel(string name, bool isBitfield, string? summary)
{
    public string Name { get; } = name;
    public bool IsBitfield { get; } = isBitfield;
    public string? Summary { get; } = summary;
    public List<EntryModel> Entries { get; } = [];

    /// <summary>The C# type name; the emitter renames it when it collides with a request method.</summary>
    public string TypeName { get; set; } = Naming.Pascal(name);
}

internal sealed class EntryModel(string name, uint value, string? summary)
{
    public string Name { get; } = name;
    public uint Value { get; } = value;
    public string? Summary { get; } = summary;
}

internal sealed class ProtocolFormatException(string message) : Exception(message);
