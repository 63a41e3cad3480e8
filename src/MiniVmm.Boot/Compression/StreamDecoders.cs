using System.Buffers.Binary;
using System.IO.Compression;
using K4os.Compression.LZ4;
using ZstdSharp;

namespace MiniVmm.Boot.Compression;

/// <summary>
/// gzip, zstd and LZ4-legacy payload decoders. Each stops at the end of its own format and ignores
/// what follows (the kernel appends a le32 size), and each caps its output so a hostile payload
/// cannot make the VMM allocate without bound. Malformed input throws <see cref="InvalidDataException"/>
/// or whatever the library throws; <see cref="PayloadDecompressor"/> turns all of it into a BootException.
/// </summary>
internal static class StreamDecoders
{
    /// <summary>
    /// One gzip member (RFC 1952). .NET's GZipStream neither reports a truncated member nor tolerates
    /// trailing bytes that happen to start with 1F 8B (a le32 size can), so the header is parsed here,
    /// the raw deflate data decoded with DeflateStream (which stops at the final block), and the
    /// member trailer (CRC-32, ISIZE) checked by finding it after the deflate data.
    /// </summary>
    public static byte[] Gzip(ReadOnlyMemory<byte> payload, int capacityHint, int maxOutput)
    {
        int deflateStart = GzipHeaderLength(payload.Span);
        byte[] output;
        using (var source = XzDecoder.AsStream(payload[deflateStart..]))
        using (var deflate = new DeflateStream(source, CompressionMode.Decompress))
            output = ReadAll(deflate, capacityHint, maxOutput);

        Span<byte> trailer = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(trailer, Crc32.Compute(output));
        BinaryPrimitives.WriteUInt32LittleEndian(trailer[4..], (uint)output.Length);
        if (payload.Span[deflateStart..].IndexOf(trailer) < 0)
            throw new InvalidDataException("gzip data is truncated or fails its CRC-32 check");
        return output;
    }

    private static int GzipHeaderLength(ReadOnlySpan<byte> data)
    {
        const byte FlagHeaderCrc = 0x02, FlagExtra = 0x04, FlagName = 0x08, FlagComment = 0x10;
        if (data.Length < 18 || data[2] != 8 || (data[3] & 0xE0) != 0)
            throw new InvalidDataException("gzip header is not deflate or uses reserved flags");
        byte flags = data[3];
        int p = 10;
        if ((flags & FlagExtra) != 0)
            p += 2 + BinaryPrimitives.ReadUInt16LittleEndian(data[p..]);
        if ((flags & FlagName) != 0)
            p = SkipZeroTerminated(data, p);
        if ((flags & FlagComment) != 0)
            p = SkipZeroTerminated(data, p);
        if ((flags & FlagHeaderCrc) != 0)
            p += 2;
        return p < data.Length ? p : throw new InvalidDataException("gzip header is truncated");
    }

    private static int SkipZeroTerminated(ReadOnlySpan<byte> data, int p)
    {
        int zero = p < data.Length ? data[p..].IndexOf((byte)0) : -1;
        return zero >= 0 ? p + zero + 1 : throw new InvalidDataException("gzip header is truncated");
    }

    public static byte[] Zstd(ReadOnlyMemory<byte> payload, int capacityHint, int maxOutput)
    {
        // ZstdSharp's stream treats trailing bytes as a broken next frame, so hand it exactly the frames.
        int framesLength = ZstdFrames.MeasureFrames(payload.Span);
        using var source = XzDecoder.AsStream(payload[..framesLength]);
        using var zstd = new DecompressionStream(source);
        return ReadAll(zstd, capacityHint, maxOutput);
    }

    /// <summary>
    /// LZ4 "legacy" format (what <c>lz4 -l</c> and the kernel build write): magic 0x184C2102, then blocks
    /// of [le32 compressed size][LZ4 block], each unpacking to at most 8 MiB.
    /// </summary>
    public static byte[] Lz4Legacy(ReadOnlyMemory<byte> payload, int capacityHint, int maxOutput)
    {
        const int BlockOutputMax = 8 << 20;
        const uint Magic = 0x184C_2102;
        var input = payload.Span[4..];
        using var output = new MemoryStream(capacityHint);
        var block = new byte[BlockOutputMax];
        int blocks = 0;
        while (input.Length >= 4)
        {
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(input);
            if (size == Magic)
            {
                input = input[4..]; // concatenated legacy streams repeat the magic
                continue;
            }
            // What is left after the last block is the kernel's le32 uncompressed size (or padding).
            if (blocks > 0 && (size == 0 || input.Length <= 4 || size > (uint)(input.Length - 4)))
                break;
            if (size == 0 || size > (uint)(input.Length - 4) || size > LZ4Codec.MaximumOutputSize(BlockOutputMax))
                throw new InvalidDataException("LZ4 block size runs past the payload");
            int decoded = LZ4Codec.Decode(input.Slice(4, (int)size), block);
            if (decoded < 0)
                throw new InvalidDataException("LZ4 block is corrupt");
            if (output.Length + decoded > maxOutput)
                throw new InvalidDataException($"LZ4 data unpacks to more than {maxOutput >> 20} MiB");
            output.Write(block, 0, decoded);
            input = input[(4 + (int)size)..];
            blocks++;
        }
        if (blocks == 0)
            throw new InvalidDataException("LZ4 stream has no blocks");
        return output.ToArray();
    }

    private static byte[] ReadAll(Stream source, int capacityHint, int maxOutput)
    {
        using var output = new MemoryStream(capacityHint);
        var buffer = new byte[1 << 20];
        int read;
        while ((read = source.Read(buffer, 0, buffer.Length)) > 0)
        {
            if (output.Length + read > maxOutput)
                throw new InvalidDataException($"payload unpacks to more than {maxOutput >> 20} MiB");
            output.Write(buffer, 0, read);
        }
        return output.ToArray();
    }
}
