using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MiniVmm.Wayland;

/// <summary>Copies pixels into XRGB8888 (bytes B,G,R,X with X = 0xFF), 4 pixels per byte shuffle where the CPU has one.</summary>
public static class PixelConverter
{
    // Shuffle masks: output byte i takes input byte mask[i] (per 4-byte pixel).
    private static readonly Vector128<byte> SwapRedBlue = Vector128.Create((byte)2, 1, 0, 3, 6, 5, 4, 7, 10, 9, 8, 11, 14, 13, 12, 15);
    private static readonly Vector128<byte> Reverse = Vector128.Create((byte)3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
    private static readonly Vector128<byte> Rotate = Vector128.Create((byte)1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12);

    /// <summary>Converts <paramref name="pixels"/> pixels from <paramref name="source"/> into <paramref name="target"/>.</summary>
    public static void ConvertRow(ReadOnlySpan<byte> source, Span<byte> target, int pixels, PixelFormat format)
    {
        var length = pixels * 4;
        source = source[..length];
        target = target[..length];
        switch (format)
        {
            case PixelFormat.Bgrx:
            case PixelFormat.Bgra:
                source.CopyTo(target);
                break;
            case PixelFormat.Rgbx:
            case PixelFormat.Rgba:
                Shuffle(source, target, SwapRedBlue);
                break;
            case PixelFormat.Xrgb:
            case PixelFormat.Argb:
                Shuffle(source, target, Reverse);
                break;
            default:
                Shuffle(source, target, Rotate);
                break;
        }
        MakeOpaque(target);
    }

    /// <summary>
    /// Sets every X byte to 0xFF. Guests leave the X of XRGB at 0 (Linux fbcon does), and Weston's pixman
    /// renderer then shows nothing at all even though the buffer is XRGB8888; a scanout is always opaque.
    /// </summary>
    private static void MakeOpaque(Span<byte> target)
    {
        var pixels = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(target);
        var alpha = new System.Numerics.Vector<uint>(0xFF00_0000);
        var i = 0;
        for (; i <= pixels.Length - System.Numerics.Vector<uint>.Count; i += System.Numerics.Vector<uint>.Count)
            (new System.Numerics.Vector<uint>(pixels[i..]) | alpha).CopyTo(pixels[i..]);
        for (; i < pixels.Length; i++)
            pixels[i] |= 0xFF00_0000;
    }

    /// <summary>Converts one rectangle between two images of the same size (strides in bytes).</summary>
    public static void ConvertRect(
        ReadOnlySpan<byte> source, int sourceStride, Span<byte> target, int targetStride, PixelRect rect, PixelFormat format)
    {
        for (var y = rect.Y; y < rect.Y + rect.Height; y++)
        {
            ConvertRow(
                source.Slice(y * sourceStride + rect.X * 4, rect.Width * 4),
                target.Slice(y * targetStride + rect.X * 4, rect.Width * 4),
                rect.Width,
                format);
        }
    }

    private static void Shuffle(ReadOnlySpan<byte> source, Span<byte> target, Vector128<byte> mask)
    {
        var i = 0;
        // pshufb takes the mask from a register; Vector128.Shuffle only becomes one when the mask is a JIT constant.
        if (Ssse3.IsSupported)
        {
            for (; i <= source.Length - 16; i += 16)
                Ssse3.Shuffle(Vector128.Create(source.Slice(i, 16)), mask).CopyTo(target.Slice(i, 16));
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; i <= source.Length - 16; i += 16)
                Vector128.Shuffle(Vector128.Create(source.Slice(i, 16)), mask).CopyTo(target.Slice(i, 16));
        }
        for (; i < source.Length; i += 4)
        {
            var a = source[i + mask[0]];
            var b = source[i + mask[1]];
            var c = source[i + mask[2]];
            var d = source[i + mask[3]];
            target[i] = a;
            target[i + 1] = b;
            target[i + 2] = c;
            target[i + 3] = d;
        }
    }
}
