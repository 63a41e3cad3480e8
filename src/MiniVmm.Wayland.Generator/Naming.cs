using System.Collections.Generic;
using System.Text;

namespace MiniVmm.Wayland.Generator;

/// <summary>snake_case protocol names to C# identifiers.</summary>
internal static class Naming
{
    private static readonly HashSet<string> Keywords =
    [
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const",
        "continue", "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern",
        "false", "finally", "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface",
        "internal", "is", "lock", "long", "namespace", "new", "null", "object", "operator", "out", "override",
        "params", "private", "protected", "public", "readonly", "ref", "return", "sbyte", "sealed", "short",
        "sizeof", "stackalloc", "static", "string", "struct", "switch", "this", "throw", "true", "try", "typeof",
        "uint", "ulong", "unchecked", "unsafe", "ushort", "using", "virtual", "void", "volatile", "while",
    ];

    /// <summary>wl_surface → WlSurface, flipped_90 → Flipped90; a leading digit ("90") gets an underscore.</summary>
    public static string Pascal(string snake)
    {
        var builder = new StringBuilder(snake.Length);
        var upper = true;
        foreach (var c in snake)
        {
            if (c == '_' || c == '-')
            {
                upper = true;
                continue;
            }
            builder.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }
        if (builder.Length == 0 || char.IsDigit(builder[0]))
            builder.Insert(0, '_');
        return builder.ToString();
    }

    /// <summary>Parameter names: x_hotspot → xHotspot, interface → @interface.</summary>
    public static string Camel(string snake)
    {
        var pascal = Pascal(snake);
        var camel = pascal[0] == '_' ? pascal : char.ToLowerInvariant(pascal[0]) + pascal.Substring(1);
        return Keywords.Contains(camel) ? "@" + camel : camel;
    }

    /// <summary>Text for an XML doc comment: one line, with markup characters escaped.</summary>
    public static string Doc(string? text) =>
        text is null
            ? string.Empty
            : string.Join(" ", text.Split([' ', '\t', '\r', '\n'], System.StringSplitOptions.RemoveEmptyEntries))
                .Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    public static string Literal(string text) => "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
