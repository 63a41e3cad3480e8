using MiniVmm.Gpu.Protocol;

namespace MiniVmm.Gpu.Backend;

/// <summary>
/// What SET_SCANOUT_BLOB put on a scanout: the blob, where its framebuffer starts, its stride, and the rectangle of
/// the framebuffer shown (<see cref="Source"/>). The scanout shows <see cref="Shadow"/>, a host copy of that
/// rectangle refreshed from the blob on SET_SCANOUT_BLOB and RESOURCE_FLUSH, so presenting and screenshots work as
/// for 2D resources. Guarded by the resource lock (see <see cref="VirtioGpuBackend"/>).
/// </summary>
internal sealed record ScanoutBlob(BlobResource Blob, ulong Offset, uint Stride, VirtioGpuRect Source, Resource2D Shadow)
{
    /// <summary>Copies rows [top, top + count) of <see cref="Source"/> from the blob; the ranges were checked at SET_SCANOUT_BLOB.</summary>
    public bool Refresh(uint top, uint count)
    {
        int rowBytes = (int)Source.Width * PixelFormats.BytesPerPixel;
        for (uint row = top; row < top + count; row++)
        {
            ulong from = Offset + (Source.Y + row) * (ulong)Stride + Source.X * (ulong)PixelFormats.BytesPerPixel;
            if (!Blob.TryRead(from, Shadow.Pixels.AsSpan((int)row * Shadow.Stride, rowBytes)))
                return false;
        }
        return true;
    }
}
