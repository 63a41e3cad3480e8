using MiniVmm.Gpu.Protocol;

namespace MiniVmm.Gpu.Backend;

/// <summary>
/// The cursor queue's state: image (copied at UPDATE time, so the resource may go away after), scanout and position.
/// Sink calls are recorded and made once the lock is released (<see cref="DeferredSinkCalls"/>).
/// Not thread-safe: <see cref="VirtioGpuBackend"/> calls it with the resource lock held.
/// </summary>
internal sealed class GuestCursor(DeferredSinkCalls sink)
{
    private CursorImage? _image;
    private int _scanoutId;
    private int _x;
    private int _y;

    /// <summary>The cursor as last set: image (null when hidden), scanout and position.</summary>
    public (CursorImage? Image, int ScanoutId, int X, int Y) State => (_image, _scanoutId, _x, _y);

    /// <summary>UPDATE_CURSOR: <paramref name="resource"/> null hides the cursor; otherwise it must be 64x64.</summary>
    public GpuResponse Update(in VirtioGpuCursorPos pos, Resource2D? resource, uint hotX, uint hotY)
    {
        CursorImage? image = null;
        if (resource is not null)
        {
            if (resource.Width != VirtioGpuConstants.CursorSize || resource.Height != VirtioGpuConstants.CursorSize)
                return GpuResponse.ErrInvalidParameter($"cursor resource {resource.Id} is {resource.Width}x{resource.Height}, not 64x64");
            if (hotX >= resource.Width || hotY >= resource.Height)
                return GpuResponse.ErrInvalidParameter($"cursor hotspot {hotX},{hotY} is outside the image");
            int size = (int)VirtioGpuConstants.CursorSize;
            var bgra = new byte[size * size * PixelFormats.BytesPerPixel];
            PixelFormats.Convert(resource.Pixels, resource.Stride, size, size, resource.Format, bgra, PixelOrder.Bgra);
            image = new CursorImage(size, size, bgra, (int)hotX, (int)hotY);
        }
        _image = image;
        SetPosition(in pos);
        var (scanoutId, x, y) = (_scanoutId, _x, _y);
        sink.Add(s => s.UpdateCursor(scanoutId, image, x, y));
        return GpuResponse.OkNoData;
    }

    /// <summary>MOVE_CURSOR: only the position changes.</summary>
    public GpuResponse Move(in VirtioGpuCursorPos pos)
    {
        SetPosition(in pos);
        var (scanoutId, x, y) = (_scanoutId, _x, _y);
        sink.Add(s => s.MoveCursor(scanoutId, x, y));
        return GpuResponse.OkNoData;
    }

    public void Reset() => (_image, _scanoutId, _x, _y) = (null, 0, 0, 0);

    private void SetPosition(in VirtioGpuCursorPos pos)
    {
        _scanoutId = (int)pos.ScanoutId;
        // Linux sends plane coordinates that may be negative (a cursor partly off the left or top edge) as s32.
        _x = (int)pos.X;
        _y = (int)pos.Y;
    }
}
