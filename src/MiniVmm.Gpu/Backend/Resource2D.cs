using MiniVmm.Gpu.Protocol;

namespace MiniVmm.Gpu.Backend;

/// <summary>A 2D resource: its host pixel copy and, once attached, its guest backing. Guarded by the backend lock.</summary>
internal sealed class Resource2D
{
    public Resource2D(uint id, VirtioGpuFormat format, uint width, uint height, byte[] pixels)
    {
        Id = id;
        Format = format;
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public uint Id { get; }
    public VirtioGpuFormat Format { get; }
    public uint Width { get; }
    public uint Height { get; }

    /// <summary>Bytes per row of <see cref="Pixels"/>: rows are tightly packed.</summary>
    public int Stride => (int)Width * PixelFormats.BytesPerPixel;

    public byte[] Pixels { get; }

    public BackingStore? Backing { get; set; }

    /// <summary>Whether <paramref name="r"/> lies inside the resource, computed without overflow.</summary>
    public bool Contains(in VirtioGpuRect r) =>
        r.X <= Width && r.Width <= Width - r.X && r.Y <= Height && r.Height <= Height - r.Y;
}
