using MiniVmm.Gpu.Protocol;

namespace MiniVmm.Gpu.Backend;

/// <summary>
/// The eight 32-bit 2D formats. Byte order in memory follows the letters of the name (Gallium convention
/// on little-endian: B8G8R8X8 is DRM XRGB8888 and Wayland's wl_shm XRGB8888).
/// </summary>
public static class PixelFormats
{
    public const int BytesPerPixel = 4;

    public static bool IsSupported(uint format) => format switch
    {
        (uint)VirtioGpuFormat.B8G8R8A8_UNORM or (uint)VirtioGpuFormat.B8G8R8X8_UNORM
            or (uint)VirtioGpuFormat.A8R8G8B8_UNORM or (uint)VirtioGpuFormat.X8R8G8B8_UNORM
            or (uint)VirtioGpuFormat.R8G8B8A8_UNORM or (uint)VirtioGpuFormat.X8B8G8R8_UNORM
            or (uint)VirtioGpuFormat.A8B8G8R8_UNORM or (uint)VirtioGpuFormat.R8G8B8X8_UNORM => true,
        _ => false,
    };

    /// <summary>Byte offsets of red, green, blue and alpha in one pixel; alpha -1 when the format has none (X).</summary>
    public static (int R, int G, int B, int A) ChannelOffsets(VirtioGpuFormat format) => format switch
    {
        VirtioGpuFormat.B8G8R8A8_UNORM => (2, 1, 0, 3),
        VirtioGpuFormat.B8G8R8X8_UNORM => (2, 1, 0, -1),
        VirtioGpuFormat.A8R8G8B8_UNORM => (1, 2, 3, 0),
        VirtioGpuFormat.X8R8G8B8_UNORM => (1, 2, 3, -1),
        VirtioGpuFormat.R8G8B8A8_UNORM => (0, 1, 2, 3),
        VirtioGpuFormat.X8B8G8R8_UNORM => (3, 2, 1, -1),
        VirtioGpuFormat.A8B8G8R8_UNORM => (3, 2, 1, 0),
        VirtioGpuFormat.R8G8B8X8_UNORM => (0, 1, 2, -1),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "not a 2D format"),
    };

    /// <summary>
    /// Converts <paramref name="width"/> x <paramref name="height"/> pixels at <paramref name="stride"/> bytes per
    /// row into tightly packed pixels with the byte order given by <paramref name="order"/>. Padding bytes (X) become
    /// opaque alpha.
    /// </summary>
    public static void Convert(ReadOnlySpan<byte> source, int stride, int width, int height, VirtioGpuFormat format,
        Span<byte> destination, PixelOrder order)
    {
        var (r, g, b, a) = ChannelOffsets(format);
        var (outR, outG, outB) = order == PixelOrder.Rgba ? (0, 1, 2) : (2, 1, 0);
        for (int y = 0; y < height; y++)
        {
            var row = source.Slice(y * stride, width * BytesPerPixel);
            var outRow = destination.Slice(y * width * BytesPerPixel, width * BytesPerPixel);
            for (int x = 0; x < width; x++)
            {
                var px = row.Slice(x * BytesPerPixel, BytesPerPixel);
                var outPx = outRow.Slice(x * BytesPerPixel, BytesPerPixel);
                outPx[outR] = px[r];
                outPx[outG] = px[g];
                outPx[outB] = px[b];
                outPx[3] = a < 0 ? (byte)0xFF : px[a];
            }
        }
    }
}

/// <summary>Byte order of a tightly packed 32-bit pixel buffer.</summary>
public enum PixelOrder
{
    /// <summary>R, G, B, A in memory (PNG order).</summary>
    Rgba,
    /// <summary>B, G, R, A in memory (Wayland/DRM ARGB8888 on little-endian).</summary>
    Bgra,
}
