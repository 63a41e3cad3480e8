using System.Buffers.Binary;
using System.Security.Cryptography;
using SharpCompress.Compressors.LZMA;

namespace MiniVmm.Boot.Compression;

/// <summary>
/// Decodes one .xz stream (tukaani.org xz-file-format 1.2) as the kernel build writes it:
/// blocks of optional x86 BCJ + LZMA2, crc32 check. The container, the BCJ filter and the checks are
/// MiniVmm's own; SharpCompress only does raw LZMA2. The container is walked once up front (block
/// headers and LZMA2 chunk headers give exact sizes) so the output is allocated once and every size
/// is bounded before anything is decoded. Bytes after the stream footer are ignored (the kernel
/// appends the le32 uncompressed size). Malformed input throws <see cref="InvalidDataException"/>.
/// </summary>
internal static class XzDecoder
{
    private static ReadOnlySpan<byte> StreamMagic => [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00];
    private const ulong FilterX86 = 0x04;
    private const ulong FilterLzma2 = 0x21;

    private readonly record struct Block(int DataStart, int PackedSize, int UnpackedSize, byte DictionaryProperty,
        bool X86, uint X86StartOffset, int CheckStart, int UnpaddedSize);

    public static byte[] Decode(ReadOnlyMemory<byte> payload, int maxOutput)
    {
        var input = payload.Span;
        if (input.Length < 24 || !input.StartsWith(StreamMagic))
            throw new InvalidDataException("no xz stream header");
        var streamFlags = input.Slice(6, 2);
        if (Crc32.Compute(streamFlags) != BinaryPrimitives.ReadUInt32LittleEndian(input[8..]))
            throw new InvalidDataException("xz stream header CRC mismatch");
        if (streamFlags[0] != 0 || (streamFlags[1] & 0xF0) != 0)
            throw new InvalidDataException("xz stream flags use reserved bits");
        int checkType = streamFlags[1];
        int checkSize = checkType == 0 ? 0 : 4 << ((checkType - 1) / 3);

        var blocks = new List<Block>();
        long total = 0;
        int position = 12;
        while (true)
        {
            Need(input, position, 1);
            if (input[position] == 0)
                break; // index indicator
            var block = ReadBlock(input, position, checkSize);
            total += block.UnpackedSize;
            if (total > maxOutput)
                throw new InvalidDataException($"xz data unpacks to more than {maxOutput >> 20} MiB");
            blocks.Add(block);
            position = block.CheckStart + checkSize;
        }
        ReadIndexAndFooter(input, position, blocks, streamFlags);

        var output = new byte[total];
        int outputOffset = 0;
        foreach (var block in blocks)
        {
            var target = output.AsSpan(outputOffset, block.UnpackedSize);
            DecodeLzma2(payload.Slice(block.DataStart, block.PackedSize), block.DictionaryProperty, output, outputOffset, block.UnpackedSize);
            if (block.X86)
                X86BcjFilter.Decode(target, block.X86StartOffset);
            VerifyCheck(checkType, target, input.Slice(block.CheckStart, checkSize));
            outputOffset += block.UnpackedSize;
        }
        return output;
    }

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
        byte dictionary = 0;
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
            if (id == FilterLzma2 && last && properties.Length == 1 && properties[0] <= 40)
            {
                dictionary = properties[0];
            }
            else if (id == FilterX86 && !last && !x86 && (properties.Length == 0 || properties.Length == 4))
            {
                x86 = true;
                x86Start = properties.Length == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(properties) : 0;
            }
            else
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
        return new Block(dataStart, packed, unpacked, dictionary, x86, x86Start, paddedEnd + padding, headerSize + packed + checkSize);
    }

    /// <summary>Walks LZMA2 chunk headers to find the packed length (incl. end marker) and the unpacked total.</summary>
    private static (int Packed, int Unpacked) MeasureLzma2(ReadOnlySpan<byte> input, int start)
    {
        int p = start;
        long unpacked = 0;
        while (true)
        {
            Need(input, p, 1);
            byte control = input[p];
            if (control == 0x00)
                return (p + 1 - start, checked((int)unpacked));
            if (control is 0x01 or 0x02)
            {
                Need(input, p, 3);
                int size = BinaryPrimitives.ReadUInt16BigEndian(input[(p + 1)..]) + 1;
                unpacked += size;
                p += 3 + size;
            }
            else if (control >= 0x80)
            {
                Need(input, p, 5);
                unpacked += ((control & 0x1F) << 16) + BinaryPrimitives.ReadUInt16BigEndian(input[(p + 1)..]) + 1;
                int packed = BinaryPrimitives.ReadUInt16BigEndian(input[(p + 3)..]) + 1;
                p += 5 + (control >= 0xC0 ? 1 : 0) + packed;
            }
            else
            {
                throw new InvalidDataException($"invalid LZMA2 chunk control byte 0x{control:x2}");
            }
            if (unpacked > int.MaxValue)
                throw new InvalidDataException("LZMA2 data is too large");
        }
    }

    private static void DecodeLzma2(ReadOnlyMemory<byte> packed, byte dictionary, byte[] output, int offset, int count)
    {
        using var source = AsStream(packed);
        using var lzma = LzmaStream.Create([WindowFor(dictionary, count)], source, packed.Length, count, null, true, false);
        int done = 0;
        while (done < count)
        {
            int read = lzma.Read(output, offset + done, count - done);
            if (read <= 0)
                throw new InvalidDataException("LZMA2 data ended early");
            done += read;
        }
    }

    /// <summary>
    /// The decoder allocates the whole dictionary up front, and a header may claim up to 4 GiB. No valid
    /// match reaches further back than the block's own output, so a window just covering the output
    /// decodes the same bytes: pick the smallest dictionary size that does, never more than declared.
    /// </summary>
    private static byte WindowFor(byte declared, int unpackedSize)
    {
        for (byte p = 0; p < declared; p++)
        {
            long size = (2L | (p & 1u)) << ((p / 2) + 11);
            if (size >= unpackedSize)
                return p;
        }
        return declared;
    }

    private static void VerifyCheck(int checkType, ReadOnlySpan<byte> data, ReadOnlySpan<byte> stored)
    {
        bool ok = checkType switch
        {
            0 => true,
            1 => Crc32.Compute(data) == BinaryPrimitives.ReadUInt32LittleEndian(stored),
            4 => Crc64.Compute(data) == BinaryPrimitives.ReadUInt64LittleEndian(stored),
            10 => SHA256.HashData(data).AsSpan().SequenceEqual(stored),
            _ => throw new InvalidDataException($"unsupported xz check type {checkType}"),
        };
        if (!ok)
            throw new InvalidDataException("xz block check mismatch (corrupt data)");
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

    internal static MemoryStream AsStream(ReadOnlyMemory<byte> data) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(data.ToArray(), writable: false);
}
