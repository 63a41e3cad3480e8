namespace MiniVmm.Boot.Compression;

/// <summary>CRC-64/XZ (ECMA-182 polynomial, reflected 0xC96C5795D7870F42): xz's default check.</summary>
internal static class Crc64
{
    private const ulong Polynomial = 0xC96C_5795_D787_0F42;
    private static readonly ulong[] Table = BuildTable();

    private static ulong[] BuildTable()
    {
        var table = new ulong[256];
        for (uint i = 0; i < 256; i++)
        {
            ulong crc = i;
            for (int bit = 0; bit < 8; bit++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ Polynomial : crc >> 1;
            table[i] = crc;
        }
        return table;
    }

    public static ulong Compute(ReadOnlySpan<byte> data)
    {
        ulong crc = ulong.MaxValue;
        foreach (byte b in data)
            crc = (crc >> 8) ^ Table[(int)((crc ^ b) & 0xFF)];
        return ~crc;
    }
}
