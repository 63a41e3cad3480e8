using System.Buffers.Binary;
using System.IO.Compression;

namespace MiniVmm.Wayland.Tests.Support;

/// <summary>
/// A decoded PNG as RGBA bytes. The decoder handles what Weston's screenshooter (cairo) writes: 8-bit RGB or RGBA,
/// not interlaced, all five filter types. Anything else is <see cref="NotSupportedException"/>; corruption is
/// <see cref="InvalidDataException"/>. Shared by test projects: link this file.
/// </summary>
public sealed class PngImage
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private PngImage(int width, int height, byte[] rgba)
    {
        Width = width;
        Height = height;
        Rgba = rgba;
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>Row-major, 4 bytes per pixel, no padding.</summary>
    public byte[] Rgba { get; }

    public (byte R, byte G, byte B, byte A) GetPixel(int x, int y)
    {
        var i = (y * Width + x) * 4;
        return (Rgba[i], Rgba[i + 1], Rgba[i + 2], Rgba[i + 3]);
    }

    /// <summary>The first pixel (row-major) with exactly this colour, e.g. a marker drawn at a window's corner.</summary>
    public (int X, int Y)? Find((byte R, byte G, byte B) colour)
    {
        for (var i = 0; i < Rgba.Length; i += 4)
        {
            if (Rgba[i] == colour.R && Rgba[i + 1] == colour.G && Rgba[i + 2] == colour.B)
                return (i / 4 % Width, i / 4 / Width);
        }
        return null;
    }

    public static PngImage Load(string path) => Decode(File.ReadAllBytes(path));

    public static PngImage Decode(ReadOnlySpan<byte> png)
    {
        if (png.Length < Signature.Length || !png[..Signature.Length].SequenceEqual(Signature))
            throw new InvalidDataException("not a PNG file");
        int width = 0, height = 0, channels = 0;
        using var compressed = new MemoryStream();
        var offset = Signature.Length;
        while (true)
        {
            if (png.Length - offset < 12)
                throw new InvalidDataException("PNG ends inside a chunk header");
            var length = BinaryPrimitives.ReadUInt32BigEndian(png[offset..]);
            var type = System.Text.Encoding.ASCII.GetString(png.Slice(offset + 4, 4));
            if (length > (uint)(png.Length - offset - 12))
                throw new InvalidDataException($"PNG chunk {type} runs past the end of the file");
            var data = png.Slice(offset + 8, (int)length);
            offset += 12 + (int)length; // length, type, data, CRC
            if (type == "IHDR")
                (width, height, channels) = ReadHeader(data);
            else if (type == "IDAT")
                compressed.Write(data);
            else if (type == "IEND")
                break;
        }
        if (channels == 0)
            throw new InvalidDataException("PNG has no IHDR chunk");
        compressed.Position = 0;
        return new PngImage(width, height, Unfilter(compressed, width, height, channels));
    }

    private static (int Width, int Height, int Channels) ReadHeader(ReadOnlySpan<byte> data)
    {
        if (data.Length != 13)
            throw new InvalidDataException("IHDR is not 13 bytes");
        var width = BinaryPrimitives.ReadInt32BigEndian(data);
        var height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
        var (depth, colour, interlace) = (data[8], data[9], data[12]);
        if (width <= 0 || height <= 0 || (long)width * height > 1 << 26)
            throw new InvalidDataException($"PNG size {width}x{height} is unreasonable");
        if (depth != 8 || colour is not (2 or 6) || interlace != 0)
            throw new NotSupportedException($"PNG depth {depth}, colour type {colour}, interlace {interlace}: only 8-bit RGB/RGBA, not interlaced");
        return (width, height, colour == 2 ? 3 : 4);
    }

    private static byte[] Unfilter(Stream compressed, int width, int height, int channels)
    {
        var stride = width * channels;
        var raw = new byte[(stride + 1) * height];
        using (var zlib = new ZLibStream(compressed, CompressionMode.Decompress))
            zlib.ReadExactly(raw);
        var previous = new byte[stride];
        var current = new byte[stride];
        var rgba = new byte[width * height * 4];
        for (var y = 0; y < height; y++)
        {
            var row = raw.AsSpan(y * (stride + 1), stride + 1);
            var filter = row[0];
            for (var i = 0; i < stride; i++)
            {
                var left = i >= channels ? current[i - channels] : 0;
                var up = previous[i];
                var upLeft = i >= channels ? previous[i - channels] : 0;
                current[i] = (byte)(row[i + 1] + filter switch
                {
                    0 => 0,
                    1 => left,
                    2 => up,
                    3 => (left + up) / 2,
                    4 => Paeth(left, up, upLeft),
                    _ => throw new InvalidDataException($"PNG filter type {filter} does not exist"),
                });
            }
            for (var x = 0; x < width; x++)
            {
                var target = (y * width + x) * 4;
                current.AsSpan(x * channels, 3).CopyTo(rgba.AsSpan(target));
                rgba[target + 3] = channels == 4 ? current[x * channels + 3] : (byte)255;
            }
            (previous, current) = (current, previous);
        }
        return rgba;
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        var (pa, pb, pc) = (Math.Abs(p - a), Math.Abs(p - b), Math.Abs(p - c));
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
