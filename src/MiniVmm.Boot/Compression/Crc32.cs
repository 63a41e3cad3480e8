using System.Buffers.Binary;

namespace MiniVmm.Boot.Compression;

/// <summary>
/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the check the kernel's xz payload carries.
/// Slicing-by-8 because the Debian vmlinux is ~64 MB and a byte-at-a-time loop would cost more than
/// the BCJ pass. (System.IO.Hashing would do, but is a package of its own.)
/// </summary>
internal static class Crc32
{
    private const uint Polynomial = 0xEDB8_8320;
    private static readonly uint[] Table = BuildTable();

    private static uint[] BuildTable()
    {
        var table = new uint[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            uint crc = i;
            for (int bit = 0; bit < 8; bit++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ Polynomial : crc >> 1;
            table[i] = crc;
        }
        // Table k advances a byte that sits k positions further back: one more zero byte shifted through.
        for (int k = 1; k < 8; k++)
        {
            for (int i = 0; i < 256; i++)
            {
                uint previous = table[((k - 1) * 256) + i];
                table[(k * 256) + i] = (previous >> 8) ^ table[previous & 0xFF];
            }
        }
        return table;
    }

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var t = Table;
        uint crc = 0xFFFF_FFFF;
        while (data.Length >= 8)
        {
            uint low = crc ^ BinaryPrimitives.ReadUInt32LittleEndian(data);
            uint high = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            crc = t[(7 * 256) + (low & 0xFF)] ^ t[(6 * 256) + ((low >> 8) & 0xFF)]
                ^ t[(5 * 256) + ((low >> 16) & 0xFF)] ^ t[(4 * 256) + (low >> 24)]
                ^ t[(3 * 256) + (high & 0xFF)] ^ t[(2 * 256) + ((high >> 8) & 0xFF)]
                ^ t[256 + ((high >> 16) & 0xFF)] ^ t[high >> 24];
            data = data[8..];
        }
        foreach (byte b in data)
            crc = (crc >> 8) ^ t[(crc ^ b) & 0xFF];
        return ~crc;
    }
}
