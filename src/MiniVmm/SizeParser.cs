using System.Globalization;

namespace MiniVmm;

/// <summary>Parses sizes such as 512M, 2G, 65536K or a plain byte count.</summary>
public static class SizeParser
{
    public static bool TryParse(string text, out ulong bytes)
    {
        bytes = 0;
        text = text.Trim();
        if (text.Length == 0)
            return false;
        int shift = char.ToUpperInvariant(text[^1]) switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, _ => 0 };
        string digits = shift == 0 ? text : text[..^1];
        if (digits.EndsWith("i", StringComparison.OrdinalIgnoreCase))
            digits = digits[..^1];
        if (!ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value))
            return false;
        if (shift > 0 && value > ulong.MaxValue >> shift)
            return false;
        bytes = value << shift;
        return true;
    }

    public static string Format(ulong bytes) => bytes switch
    {
        _ when bytes >= 1UL << 30 && bytes % (1UL << 30) == 0 => $"{bytes >> 30}G",
        _ when bytes >= 1UL << 20 && bytes % (1UL << 20) == 0 => $"{bytes >> 20}M",
        _ when bytes >= 1UL << 10 && bytes % (1UL << 10) == 0 => $"{bytes >> 10}K",
        _ => $"{bytes}",
    };
}
