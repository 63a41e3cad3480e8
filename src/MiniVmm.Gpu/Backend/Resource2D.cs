using MiniVmm.Gpu.Protocol;
using MiniVmm.Memory;

namespace MiniVmm.Gpu.Backend;

/// <summary>A 2D resource: its host pixel copy and, once attached, its guest backing. Guarded by the resource lock (see <see cref="VirtioGpuBackend"/>).</summary>
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

    /// <summary>The memory <see cref="Backing"/> lives in (set with it), so a winsrv TX, which carries none, can read it.</summary>
    public GuestMemory? BackingMemory { get; set; }

    /// <summary>
    /// winsrv's memfd copy of the image (the 2018 design): made at the first TX that names the resource, passed to the
    /// compositor, kept current by TRANSFER_TO_HOST_2D and refilled at each TX, freed at UNREF. Null until shared.
    /// </summary>
    public MappedMemfd? Shared { get; set; }

    /// <summary>Whether <paramref name="r"/> lies inside the resource, computed without overflow.</summary>
    public bool Contains(in VirtioGpuRect r) =>
        r.X <= Width && r.Width <= Width - r.X && r.Y <= Height && r.Height <= Height - r.Y;
}
