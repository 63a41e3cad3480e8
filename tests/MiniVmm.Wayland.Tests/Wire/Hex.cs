namespace MiniVmm.Wayland.Tests.Wire;

/// <summary>Hex vectors are written in 4-byte groups separated by spaces, as they appear on the wire.</summary>
internal static class Hex
{
    public static byte[] Parse(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    public static string Format(ReadOnlySpan<byte> bytes)
    {
        var text = Convert.ToHexStringLower(bytes);
        return string.Join(' ', Enumerable.Range(0, (text.Length + 7) / 8).Select(i => text.Substring(i * 8, Math.Min(8, text.Length - i * 8))));
    }
}
