using System.Buffers.Binary;
using System.Security.Cryptography;

namespace MiniVmm.Boot.Compression;

/// <summary>
/// Decodes one .xz stream (tukaani.org xz-file-format 1.2) as the kernel build writes it:
/// blocks of optional x86 BCJ + LZMA2, crc32 check. The container, the BCJ filter and the checks are
/// MiniVmm's own: SharpCompress 0.50.8's XZStream mis-decodes the x86 filter on the Debian kernel
/// and its LZMA2 decoder is slower than <see cref="Lzma2Decoder"/>. The container is walked once up
/// front (block headers and LZMA2 chunk headers give exact sizes) so the output is allocated once
/// and every size is bounded before anything is decoded. Bytes after the stream footer are ignored (the kernel
/// appends the le32 uncompressed size). Malformed input throws <see cref="InvalidDataException"/>.
/// </summary>
internal static partial class XzDecoder
{
    private static ReadOnlySpan<byte> StreamMagic => [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00];
    private const ulong FilterX86 = 0x04;
    private const ulong FilterLzma2 = 0x21;

    private readonly record struct Block(int DataStart, int PackedSize, int UnpackedSize,
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
            Lzma2Decoder.Decode(input.Slice(block.DataStart, block.PackedSize), target);
            if (block.X86)
                X86BcjFilter.Decode(target, block.X86StartOffset);
            VerifyCheck(checkType, target, input.Slice(block.CheckStart, checkSize));
            outputOffset += block.UnpackedSize;
        }
        return output;
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

    internal static MemoryStream AsStream(ReadOnlyMemory<byte> data) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(data.ToArray(), writable: false);
}
