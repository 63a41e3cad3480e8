namespace MiniVmm.GuestProxy.Shm;

/// <summary>
/// wl_shm formats as the proxy copies them: the DRM fourcc GET_IMAGE_REQUIREMENTS is asked for (wl_shm's codes are
/// fourccs except ARGB8888 = 0 and XRGB8888 = 1), and bytes per pixel for the packed single-plane formats whose damaged
/// rectangles the proxy can copy row by row. Planar formats (NV12, YUV420) and unknown codes have no entry.
/// </summary>
internal static class ShmFormats
{
    private static readonly Dictionary<uint, int> BytesPerPixel = Table(
        (1, ["R8  ", "C8  "]),
        (2, ["RG16", "BG16", "XR15", "AR15", "XB15", "AB15", "XR12", "AR12", "XB12", "AB12"]),
        (3, ["RG24", "BG24"]),
        (4, ["AR24", "XR24", "AB24", "XB24", "RA24", "RX24", "BA24", "BX24", "AR30", "XR30", "AB30", "XB30", "RA30", "RX30", "BA30", "BX30"]));

    /// <summary>The DRM fourcc of wl_shm format <paramref name="format"/>.</summary>
    public static uint ToDrm(uint format) => format switch
    {
        0 => Code("AR24"),
        1 => Code("XR24"),
        _ => format,
    };

    /// <summary>Bytes per pixel of a packed single-plane DRM format; false for any other.</summary>
    public static bool TryGetBytesPerPixel(uint drmFormat, out int bytes) => BytesPerPixel.TryGetValue(drmFormat, out bytes);

    private static uint Code(string fourcc) => (uint)(fourcc[0] | fourcc[1] << 8 | fourcc[2] << 16 | fourcc[3] << 24);

    private static Dictionary<uint, int> Table(params (int Bytes, string[] Codes)[] groups) =>
        groups.SelectMany(g => g.Codes.Select(code => (Code(code), g.Bytes))).ToDictionary(e => e.Item1, e => e.Bytes);
}
