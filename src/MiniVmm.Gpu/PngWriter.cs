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

    /// <summary>Writes what <paramref name="scanout"/> shows, or last showed before the guest disabled it, into a PNG
    /// file; false when it never showed anything.</summary>
    public static bool TryWriteScreenshot(Scanout scanout, string path)
    {
        if (scanout.LastShown() is not { } image)
            return false;
        WriteFile(path, image);
        return true;
    }

    /// <summary>Where scanout <paramref name="scanoutId"/>'s screenshot goes: scanout 0 to <paramref name="path"/>, scanout N to "NAME-N.EXT" beside it.</summary>
    public static string ScreenshotPathFor(string path, int scanoutId) => scanoutId == 0 ? path
        : Path.Combine(Path.GetDirectoryName(path) ?? "", $"{Path.GetFileNameWithoutExtension(path)}-{scanoutId}{Path.GetExtension(path)}");

    /// <summary>
    /// Captures each of <paramref name="scanouts"/> that shows something to its <see cref="ScreenshotPathFor"/> file and
    /// returns those files by scanout id (multi-head guests get one file per head in use).
    /// </summary>
    public static List<(int ScanoutId, string Path)> WriteScreenshots(IReadOnlyList<Scanout> scanouts, string path)
    {
        var written = new List<(int, string)>();
        for (var id = 0; id < scanouts.Count; id++)
        {
            var file = ScreenshotPathFor(path, id);
            if (TryWriteScreenshot(scanouts[id], file))
                written.Add((id, file));
        }
        return written;
    }
}
