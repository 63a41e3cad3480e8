using System.Text;

namespace MiniVmm.Wayland.Generator;

/// <summary>A StringBuilder that indents, so the emitters read like the code they produce.</summary>
internal sealed class CodeWriter
{
    private readonly StringBuilder _builder = new();
    private int _indent;

    public CodeWriter Line(string text = "")
    {
        if (text.Length > 0)
            _builder.Append(' ', _indent * 4).Append(text);
        _builder.Append('\n');
        return this;
    }

    public CodeWriter Open(string header)
    {
        if (header.Length > 0)
            Line(header);
        Line("{");
        _indent++;
        return this;
    }

    public CodeWriter Close(string suffix = "")
    {
        _indent--;
        return Line("}" + suffix);
    }

    public override string ToString() => _builder.ToString();
}
