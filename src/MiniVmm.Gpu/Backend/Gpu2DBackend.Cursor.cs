using MiniVmm.Gpu.Protocol;

namespace MiniVmm.Gpu.Backend;

/// <summary>The cursor queue's commands. The image is copied at UPDATE time, so the resource may go away after.</summary>
public sealed partial class Gpu2DBackend
{
    // Guarded by _lock.
    private CursorImage? _cursorImage;
    private int _cursorScanout;
    private int _cursorX;
    private int _cursorY;

    /// <summary>The cursor as last set: image (null when hidden), scanout and position.</summary>
    public (CursorImage? Image, int ScanoutId, int X, int Y) Cursor
    {
        get
        {
            lock (_lock)
                return (_cursorImage, _cursorScanout, _cursorX, _cursorY);
        }
    }

    /// <summary>UPDATE_CURSOR: resource 0 hides the cursor; otherwise the resource must be 64x64.</summary>
    public GpuResponse UpdateCursor(in VirtioGpuCursorPos pos, uint resourceId, uint hotX, uint hotY)
    {
        if (pos.ScanoutId >= _scanouts.Length)
            return GpuResponse.ErrInvalidScanoutId(pos.ScanoutId);
        lock (_lock)
        {
            CursorImage? image = null;
            if (resourceId != 0)
            {
                if (!_resources.TryGetValue(resourceId, out var resource))
                    return GpuResponse.ErrInvalidResourceId(resourceId);
                if (resource.Width != VirtioGpuConstants.CursorSize || resource.Height != VirtioGpuConstants.CursorSize)
                    return GpuResponse.ErrInvalidParameter($"cursor resource {resourceId} is {resource.Width}x{resource.Height}, not 64x64");
                if (hotX >= resource.Width || hotY >= resource.Height)
                    return GpuResponse.ErrInvalidParameter($"cursor hotspot {hotX},{hotY} is outside the image");
                int size = (int)VirtioGpuConstants.CursorSize;
                var bgra = new byte[size * size * PixelFormats.BytesPerPixel];
                PixelFormats.Convert(resource.Pixels, resource.Stride, size, size, resource.Format, bgra, PixelOrder.Bgra);
                image = new CursorImage(size, size, bgra, (int)hotX, (int)hotY);
            }
            _cursorImage = image;
            SetCursorPositionLocked(in pos);
            _sink.UpdateCursor(_cursorScanout, image, _cursorX, _cursorY);
            return GpuResponse.OkNoData;
        }
    }

    /// <summary>MOVE_CURSOR: only the position changes.</summary>
    public GpuResponse MoveCursor(in VirtioGpuCursorPos pos)
    {
        if (pos.ScanoutId >= _scanouts.Length)
            return GpuResponse.ErrInvalidScanoutId(pos.ScanoutId);
        lock (_lock)
        {
            SetCursorPositionLocked(in pos);
            _sink.MoveCursor(_cursorScanout, _cursorX, _cursorY);
            return GpuResponse.OkNoData;
        }
    }

    private void SetCursorPositionLocked(in VirtioGpuCursorPos pos)
    {
        _cursorScanout = (int)pos.ScanoutId;
        // Linux sends plane coordinates that may be negative (a cursor partly off the left or top edge) as s32.
        _cursorX = (int)pos.X;
        _cursorY = (int)pos.Y;
    }

    private void ResetCursorLocked()
    {
        _cursorImage = null;
        _cursorScanout = 0;
        _cursorX = 0;
        _cursorY = 0;
    }
}
