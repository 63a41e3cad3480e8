namespace MiniVmm.Gpu.CrossDomain;

/// <summary>
/// GET_IMAGE_REQUIREMENTS for linear buffers, computed the way crosvm's system-memory gralloc does
/// (google/crosvm d559e5ca rutabaga_gfx/src/rutabaga_gralloc/formats.rs `canonical_image_requirements`, with the
/// page rounding of rutabaga_gralloc/gralloc.rs `get_image_memory_requirements`): per plane, stride = bytes per
/// pixel × (width / horizontal subsampling) with no row alignment; planes back to back, each plane's offset the size
/// of the planes before it; the total rounded up to whole pages. The arithmetic is u32 like upstream's, so a request
/// whose unrounded size passes 4 GiB is refused there and here. The format list is upstream's: the ones sommelier
/// and cros_gralloc guests use.
/// </summary>
public static class CrossDomainImageLayout
{
    private const ulong PageSize = 4096;

    /// <summary>One plane: bytes per (subsampled) pixel and the subsampling in x and y.</summary>
    private readonly record struct Plane(uint BytesPerPixel, uint XSubsampling, uint YSubsampling);

    private static readonly Plane[] Packed1 = [new(1, 1, 1)];
    private static readonly Plane[] Packed2 = [new(2, 1, 1)];
    private static readonly Plane[] Packed3 = [new(3, 1, 1)];
    private static readonly Plane[] Packed4 = [new(4, 1, 1)];
    private static readonly Plane[] Packed8 = [new(8, 1, 1)];
    private static readonly Plane[] Biplanar420 = [new(1, 1, 1), new(2, 2, 2)]; // Y, then interleaved CbCr (or CrCb)
    private static readonly Plane[] Triplanar420 = [new(1, 1, 1), new(1, 2, 2), new(1, 2, 2)];

    /// <summary>DRM fourcc codes (little-endian ASCII, as drm_fourcc.h builds them) and their planes.</summary>
    private static readonly Dictionary<uint, Plane[]> Formats = new()
    {
        [Fourcc("R8  ")] = Packed1,
        [Fourcc("RG16")] = Packed2, // RGB565
        [Fourcc("BG24")] = Packed3, // BGR888
        [Fourcc("XR24")] = Packed4,
        [Fourcc("XB24")] = Packed4,
        [Fourcc("AR24")] = Packed4,
        [Fourcc("AB24")] = Packed4,
        [Fourcc("XR30")] = Packed4,
        [Fourcc("XB30")] = Packed4,
        [Fourcc("AR30")] = Packed4,
        [Fourcc("AB30")] = Packed4,
        [Fourcc("AB4H")] = Packed8, // ABGR16161616F
        [Fourcc("NV12")] = Biplanar420,
        [Fourcc("YV12")] = Triplanar420, // YVU420
    };

    /// <summary>Packs four ASCII characters the way the DRM_FORMAT_* macros do.</summary>
    public static uint Fourcc(string code) => code[0] | (uint)code[1] << 8 | (uint)code[2] << 16 | (uint)code[3] << 24;

    /// <summary>
    /// Fills strides, offsets and size of <paramref name="requirements"/> for a <paramref name="width"/> ×
    /// <paramref name="height"/> image of <paramref name="drmFormat"/>; null on success, or why it cannot be answered
    /// (an unknown format, a zero dimension, a size past u32). Modifier, blob id and map info are the caller's.
    /// </summary>
    public static string? TryCompute(uint width, uint height, uint drmFormat, ref CrossDomainImageRequirements requirements)
    {
        if (!Formats.TryGetValue(drmFormat, out var planes))
            return $"DRM format 0x{drmFormat:x8} is not one crosvm answers for linear buffers";
        if (width == 0 || height == 0)
            return $"image {width}x{height} has no pixels";
        ulong size = 0;
        for (int i = 0; i < planes.Length; i++)
        {
            ulong stride = (ulong)planes[i].BytesPerPixel * (width / planes[i].XSubsampling);
            ulong planeSize = stride * (height / planes[i].YSubsampling);
            if (stride > uint.MaxValue || size + planeSize > uint.MaxValue)
                return $"a {width}x{height} image of 0x{drmFormat:x8} passes 4 GiB";
            requirements.Strides[i] = (uint)stride;
            requirements.Offsets[i] = (uint)size;
            size += planeSize;
        }
        requirements.SizeBytes = (size + PageSize - 1) & ~(PageSize - 1);
        return null;
    }
}
