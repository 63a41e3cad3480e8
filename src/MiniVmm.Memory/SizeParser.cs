using System.Globalization;

namespace MiniVmm.Memory;

/// <summary>
/// The one parser for sizes on the command line (--memory, --gpu hostmem=): a number, then optionally K, M, G or T
/// (powers of 1024), optionally followed by i and/or B, so 512M, 512Mi, 512MiB and 512MB are the same; a bare B is bytes.
/// What a bare number counts is the caller's choice (MiB for --memory, as in QEMU and kvmtool).
/// </summary>
public static class SizeParser
{
    public const ulong Bytes = 1, MiB = 1UL << 20;

    public static bool TryParse(string text, ulong bareUnit, out ulong bytes)
    {
        bytes = 0;
        ReadOnlySpan<char> rest = text.AsSpan().Trim();
        int digits = 0;
        while (digits < rest.Length && char.IsAsciiDigit(rest[digits]))
            digits++;
        if (!ulong.TryParse(rest[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out ulong value))
            return false;
        string suffix = rest[digits..].ToString().ToUpperInvariant();
        ulong unit = bareUnit;
        if (suffix.Length > 0)
        {
            int shift = suffix[0] switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, _ => 0 };
            string tail = shift == 0 ? suffix : suffix[1..];
            // After a multiplier: "", "I", "B" or "IB"; on its own only "B" (bytes).
            if (shift == 0 ? tail != "B" : tail is not ("" or "I" or "B" or "IB"))
                return false;
            unit = 1UL << shift;
        }
        if (value > ulong.MaxValue / unit)
            return false;
        bytes = value * unit;
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
