using System.Buffers.Binary;

namespace MiniVmm.Boot.Compression;

/// <summary>
/// Finds where a run of zstd frames ends (RFC 8878 section 3.1) without decoding them, so trailing
/// bytes after the last frame never reach the decoder. Only headers and block headers are read.
/// </summary>
internal static class ZstdFrames
{
    private const uint FrameMagic = 0xFD2F_B528;
    private const uint SkippableMagicMask = 0xFFFF_FFF0;
    private const uint SkippableMagic = 0x184D_2A50;

    public static int MeasureFrames(ReadOnlySpan<byte> input)
    {
        int p = 0;
        int frames = 0;
        while (input.Length - p >= 4)
        {
            uint magic = BinaryPrimitives.ReadUInt32LittleEndian(input[p..]);
            if ((magic & SkippableMagicMask) == SkippableMagic)
            {
                Need(input, p, 8);
                uint size = BinaryPrimitives.ReadUInt32LittleEndian(input[(p + 4)..]);
                Need(input, p + 8, size > int.MaxValue ? -1 : (int)size);
                p += 8 + (int)size;
            }
            else if (magic == FrameMagic)
            {
                p = MeasureFrame(input, p);
                frames++;
            }
            else
            {
                break; // trailing data
            }
        }
        if (frames == 0)
            throw new InvalidDataException("no zstd frame");
        return p;
    }

    private static int MeasureFrame(ReadOnlySpan<byte> input, int start)
    {
        int p = start + 4;
        Need(input, p, 1);
        byte descriptor = input[p++];
        if ((descriptor & 0x08) != 0)
            throw new InvalidDataException("zstd frame header uses the reserved bit");
        bool singleSegment = (descriptor & 0x20) != 0;
        int contentSizeFlag = descriptor >> 6;
        int headerRest = (singleSegment ? 0 : 1)
            + (descriptor & 3) switch { 0 => 0, 1 => 1, 2 => 2, _ => 4 }
            + contentSizeFlag switch { 0 => singleSegment ? 1 : 0, 1 => 2, 2 => 4, _ => 8 };
        Need(input, p, headerRest);
        p += headerRest;
        while (true)
        {
            Need(input, p, 3);
            int header = input[p] | (input[p + 1] << 8) | (input[p + 2] << 16);
            bool last = (header & 1) != 0;
            int type = (header >> 1) & 3;
            int size = header >> 3;
            int body = type switch
            {
                0 or 2 => size,  // raw or compressed: the bytes are in the stream
                1 => 1,          // RLE: one byte repeated size times
                _ => throw new InvalidDataException("zstd block has the reserved type"),
            };
            Need(input, p + 3, body);
            p += 3 + body;
            if (last)
                break;
        }
        if ((descriptor & 0x04) != 0)
        {
            Need(input, p, 4); // content checksum
            p += 4;
        }
        return p;
    }

    private static void Need(ReadOnlySpan<byte> input, int position, int count)
    {
        if (position < 0 || count < 0 || count > input.Length - position)
            throw new InvalidDataException("zstd data is truncated");
    }
}
