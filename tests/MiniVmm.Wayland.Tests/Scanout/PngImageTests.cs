using System.Buffers.Binary;
using System.IO.Compression;
using MiniVmm.Wayland.Tests.Support;

namespace MiniVmm.Wayland.Tests.Scanout;

/// <summary>The test PNG decoder against a file built here with every filter type.</summary>
public sealed class PngImageTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(6)]
    public void DecodesAllFilters(byte colourType)
    {
        var channels = colourType == 2 ? 3 : 4;
        const int width = 5, height = 5;
        var pixels = new byte[width * height * channels];
        new Random(7).NextBytes(pixels);
        var image = PngImage.Decode(Encode(width, height, colourType, pixels));

        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var i = (y * width + x) * channels;
                var expected = (pixels[i], pixels[i + 1], pixels[i + 2], channels == 4 ? pixels[i + 3] : (byte)255);
                Assert.Equal(expected, image.GetPixel(x, y));
            }
        }
    }

    [Fact]
    public void RejectsWhatItDoesNotHandle()
    {
        Assert.Throws<InvalidDataException>(() => PngImage.Decode("not a png"u8));
        var palette = Encode(1, 1, 3, [0]);
        Assert.Throws<NotSupportedException>(() => PngImage.Decode(palette));
    }

    /// <summary>Row y uses filter y % 5, so one small image exercises none, sub, up, average and paeth.</summary>
    private static byte[] Encode(int width, int height, byte colourType, byte[] pixels)
    {
        var channels = colourType switch { 2 => 3, 6 => 4, _ => 1 };
        var stride = width * channels;
        var raw = new MemoryStream();
        for (var y = 0; y < height; y++)
        {
            var filter = (byte)(y % 5);
            raw.WriteByte(filter);
            for (var i = 0; i < stride; i++)
            {
                int Px(int yy, int ii) => yy < 0 || ii < 0 ? 0 : pixels[yy * stride + ii];
                int left = Px(y, i - channels), up = Px(y - 1, i), upLeft = Px(y - 1, i - channels);
                var predictor = filter switch
                {
                    1 => left,
                    2 => up,
                    3 => (left + up) / 2,
                    4 => Paeth(left, up, upLeft),
                    _ => 0,
                };
                raw.WriteByte((byte)(pixels[y * stride + i] - predictor));
            }
        }
        var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            raw.WriteTo(zlib);
        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        (header[8], header[9]) = (8, colourType);
        Chunk(png, "IHDR", header);
        Chunk(png, "IDAT", compressed.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.Write(length);
        png.Write(System.Text.Encoding.ASCII.GetBytes(type));
        png.Write(data);
        png.Write(new byte[4]); // CRC: the decoder does not check it
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        var (pa, pb, pc) = (Math.Abs(p - a), Math.Abs(p - b), Math.Abs(p - c));
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
