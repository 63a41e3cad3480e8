using System.Buffers.Binary;

namespace MiniVmm.Boot.Compression;

// The .xz container: block headers, index and stream footer (xz-file-format 1.2, sections 2 and 3).
// Every field is checked, including the CRC-32s, so a damaged container fails before any decoding.
internal static partial class XzDecoder
{
    private static Block ReadBlock(ReadOnlySpan<byte> input, int start, int checkSize)
    {
        int headerSize = (input[start] + 1) * 4;
        Need(input, start, headerSize);
        var header = input.Slice(start, headerSize);
        if (Crc32.Compute(header[..^4]) != BinaryPrimitives.ReadUInt32LittleEndian(header[^4..]))
            throw new InvalidDataException("xz block header CRC mismatch");
        byte flags = header[1];
        if ((flags & 0x3C) != 0)
            throw new InvalidDataException("xz block flags use reserved bits");
        int p = 2;
        long declaredPacked = (flags & 0x40) != 0 ? (long)ReadVarint(header[..^4], ref p) : -1;
        long declaredUnpacked = (flags & 0x80) != 0 ? (long)ReadVarint(header[..^4], ref p) : -1;

        bool x86 = false;
        uint x86Start = 0;
        int filterCount = (flags & 3) + 1;
        for (int f = 0; f < filterCount; f++)
        {
            ulong id = ReadVarint(header[..^4], ref p);
            ulong propertiesSize = ReadVarint(header[..^4], ref p);
            if (propertiesSize > (ulong)(header.Length - 4 - p))
                throw new InvalidDataException("xz filter properties run past the block header");
            var properties = header.Slice(p, (int)propertiesSize);
            p += (int)propertiesSize;
            bool last = f == filterCount - 1;
            // LZMA2's one property is the dictionary size, which needs no honouring: the decoder's
            // dictionary is the block's whole output.
            bool lzma2 = id == FilterLzma2 && last && properties.Length == 1 && properties[0] <= 40;
            bool bcj = id == FilterX86 && !last && !x86 && (properties.Length == 0 || properties.Length == 4);
            if (bcj)
            {
                x86 = true;
                x86Start = properties.Length == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(properties) : 0;
            }
            else if (!lzma2)
            {
                throw new InvalidDataException($"xz filter chain uses filter 0x{id:x} in an unsupported way (only x86 BCJ + LZMA2)");
            }
        }
        if (header[p..^4].ContainsAnyExcept((byte)0))
            throw new InvalidDataException("xz block header padding is not zero");

        int dataStart = start + headerSize;
        var (packed, unpacked) = MeasureLzma2(input, dataStart);
        if ((declaredPacked >= 0 && declaredPacked != packed) || (declaredUnpacked >= 0 && declaredUnpacked != unpacked))
            throw new InvalidDataException("xz block sizes disagree with its header");
        int paddedEnd = dataStart + packed;
        int padding = (4 - ((headerSize + packed) & 3)) & 3;
        Need(input, paddedEnd, padding + checkSize);
        if (input.Slice(paddedEnd, padding).ContainsAnyExcept((byte)0))
            throw new InvalidDataException("xz block padding is not zero");
        return new Block(dataStart, packed, unpacked, x86, x86Start, paddedEnd + padding, headerSize + packed + checkSize);
    }

    private static void ReadIndexAndFooter(ReadOnlySpan<byte> input, int start, List<Block> blocks, ReadOnlySpan<byte> streamFlags)
    {
        int p = start + 1;
        ulong records = ReadVarint(input, ref p);
        if (records != (ulong)blocks.Count)
            throw new InvalidDataException("xz index does not match the blocks");
        foreach (var block in blocks)
        {
            if (ReadVarint(input, ref p) != (ulong)block.UnpaddedSize || ReadVarint(input, ref p) != (ulong)block.UnpackedSize)
                throw new InvalidDataException("xz index record does not match its block");
        }
        int padding = (4 - ((p - start) & 3)) & 3;
        Need(input, p, padding + 4 + 12);
        if (input.Slice(p, padding).ContainsAnyExcept((byte)0))
            throw new InvalidDataException("xz index padding is not zero");
        p += padding;
        if (Crc32.Compute(input[start..p]) != BinaryPrimitives.ReadUInt32LittleEndian(input[p..]))
            throw new InvalidDataException("xz index CRC mismatch");
        var footer = input.Slice(p + 4, 12);
        if (Crc32.Compute(footer.Slice(4, 6)) != BinaryPrimitives.ReadUInt32LittleEndian(footer)
            || BinaryPrimitives.ReadUInt32LittleEndian(footer[4..]) != (uint)((p + 4 - start) / 4) - 1
            || !footer.Slice(8, 2).SequenceEqual(streamFlags) || footer[10] != (byte)'Y' || footer[11] != (byte)'Z')
            throw new InvalidDataException("xz stream footer is damaged");
    }

    /// <summary>xz multibyte integer: 7 bits per byte, little-endian, at most 9 bytes, no redundant zero byte.</summary>
    private static ulong ReadVarint(ReadOnlySpan<byte> input, ref int p)
    {
        ulong value = 0;
        for (int i = 0; i < 9; i++)
        {
            Need(input, p, 1);
            byte b = input[p++];
            value |= (ulong)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                if (b == 0 && i > 0)
                    throw new InvalidDataException("xz integer is not minimally encoded");
                return value;
            }
        }
        throw new InvalidDataException("xz integer is too long");
    }

    private static void Need(ReadOnlySpan<byte> input, int position, int count)
    {
        if (position < 0 || count < 0 || count > input.Length - position)
            throw new InvalidDataException("xz data is truncated");
    }
}
