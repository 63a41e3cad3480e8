using System.Collections.Generic;

namespace MiniVmm.Wayland.Generator;

/// <summary>Finds the C# type for an enum attribute: "format" (same interface) or "wl_output.transform" (another one).</summary>
internal sealed class EnumResolver
{
    private readonly Dictionary<string, string> _types = [];

    public EnumResolver(IEnumerable<ProtocolModel> protocols)
    {
        foreach (var protocol in protocols)
        {
            foreach (var iface in protocol.Interfaces)
            {
                foreach (var e in iface.Enums)
                    _types[iface.Name + "." + e.Name] = iface.ClassName + "." + e.TypeName;
            }
        }
    }

    /// <summary>Null when there is no enum attribute or it names an enum from a protocol not being generated.</summary>
    public string? Resolve(string owner, string? reference)
    {
        if (reference is null)
            return null;
        var key = reference.IndexOf('.') >= 0 ? reference : owner + "." + reference;
        return _types.TryGetValue(key, out var type) ? type : null;
    }
}
