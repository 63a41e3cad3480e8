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
    public static byte[] Gzip(ReadOnlyMemory<byte> payload, int capacityHint, int maxOutput)
    {
        // zlib checks the member's CRC-32 and ISIZE; .NET stops after a member when what follows is not another gzip header.
        using var source = XzDecoder.AsStream(payload);
        using var gzip = new GZipStream(source, CompressionMode.Decompress);
        return ReadAll(gzip, capacityHint, maxOutput);
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
