using MiniVmm.Gpu.Backend;
using StbImageWriteSharp;

namespace MiniVmm.Gpu;

/// <summary>Writes RGBA PNG files (screenshots) with StbImageWriteSharp.</summary>
public static class PngWriter
{
    /// <summary>Encodes <paramref name="rgba"/> (tightly packed R, G, B, A rows) as a PNG into <paramref name="destination"/>.</summary>
    public static void Write(Stream destination, byte[] rgba, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (rgba.Length != (long)width * height * PixelFormats.BytesPerPixel)
            throw new ArgumentException($"{rgba.Length} bytes is not {width}x{height} RGBA pixels", nameof(rgba));
        new ImageWriter().WritePng(rgba, width, height, ColorComponents.RedGreenBlueAlpha, destination);
    }

    /// <summary>Writes a captured scanout; BGRA captures are swizzled to RGBA first.</summary>
    public static void Write(Stream destination, ScanoutImage image)
    {
        byte[] rgba = image.Pixels;
        if (image.Order == PixelOrder.Bgra)
        {
            rgba = (byte[])rgba.Clone();
            for (int i = 0; i < rgba.Length; i += PixelFormats.BytesPerPixel)
                (rgba[i], rgba[i + 2]) = (rgba[i + 2], rgba[i]);
        }
        Write(destination, rgba, image.Width, image.Height);
    }

    /// <summary>Writes <paramref name="image"/> to <paramref name="path"/> (replaced if it exists).</summary>
    public static void WriteFile(string path, ScanoutImage image)
    {
        using var file = File.Create(path);
        Write(file, image);
    }

    /// <summary>Captures <paramref name="scanout"/> into a PNG file; false when the scanout shows nothing.</summary>
    public static bool TryWriteScreenshot(Scanout scanout, string path)
    {
        if (scanout.Capture() is not { } image)
            return false;
        WriteFile(path, image);
        return true;
    }
}
