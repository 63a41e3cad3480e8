using MiniVmm.Gpu.Backend;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Wayland;

namespace MiniVmm.Machine.Display;

/// <summary>
/// Shows scanout 0 as an xdg_toplevel on the host compositor. The GPU calls in on its device thread
/// with its lock held; <see cref="ScanoutWindow.Present"/> only copies into a shm buffer and commits,
/// so the guest never waits on the compositor.
/// </summary>
public sealed class WaylandDisplay : IDisplay
{
    private readonly ScanoutWindow _window;
    private readonly string _socketPath;
    // Guarded by itself: the last frame's size, to present a black frame of that size on Disable, and the cursor.
    private readonly Lock _sizeLock = new();
    private (int Width, int Height) _lastSize;
    private CursorImage? _cursorImage;
    private bool _cursorShown;

    private WaylandDisplay(ScanoutWindow window, string socketPath)
    {
        _window = window;
        _socketPath = socketPath;
    }

    /// <summary>Connects and maps the window; throws <see cref="WaylandException"/> with one line when unreachable.</summary>
    public static WaylandDisplay Open(string socketPath, TextWriter? log = null) =>
        new(new ScanoutWindow(new ScanoutWindowOptions { SocketPath = socketPath, Log = log }), socketPath);

    public string Description => $"window on {_socketPath}";

    public ScanoutWindow Window => _window;

    public void Present(int scanoutId, ReadOnlySpan<byte> pixels, int width, int height, int strideBytes,
        VirtioGpuFormat format, VirtioGpuRect dirtyRect)
    {
        if (scanoutId != 0)
            return; // one window: scanout 0
        lock (_sizeLock)
            _lastSize = (width, height);
        _window.Present(pixels, width, height, strideBytes, ToPixelFormat(format),
            ((int)dirtyRect.X, (int)dirtyRect.Y, (int)dirtyRect.Width, (int)dirtyRect.Height));
    }

    /// <summary>Unmapping the toplevel would close the window; a disabled scanout shows black instead.</summary>
    public void Disable(int scanoutId)
    {
        (int width, int height) size;
        lock (_sizeLock)
            size = _lastSize;
        if (scanoutId != 0 || size.width == 0)
            return;
        var black = new byte[size.width * size.height * 4];
        _window.Present(black, size.width, size.height, size.width * 4, PixelFormat.Bgrx, (0, 0, size.width, size.height));
    }

    // The cursor position is the image's top-left corner (Linux sends the cursor plane's crtc_x/crtc_y); the hotspot
    // would only matter if the host pointer drove the guest cursor, which this window does not do. A cursor on another
    // scanout is hidden here; the image is kept so that a MOVE_CURSOR back to scanout 0 shows it again.
    public void UpdateCursor(int scanoutId, CursorImage? image, int x, int y)
    {
        lock (_sizeLock)
            _cursorImage = image;
        ShowCursor(scanoutId, image, x, y);
    }

    public void MoveCursor(int scanoutId, int x, int y)
    {
        CursorImage? image;
        bool shown;
        lock (_sizeLock)
            (image, shown) = (_cursorImage, _cursorShown);
        if (scanoutId == 0 && shown)
            _window.MoveCursor(x, y);
        else
            ShowCursor(scanoutId, image, x, y);
    }

    private void ShowCursor(int scanoutId, CursorImage? image, int x, int y)
    {
        var show = scanoutId == 0 && image is not null;
        lock (_sizeLock)
            _cursorShown = show;
        if (show)
            _window.ShowCursor(image!.Bgra, image.Width, image.Height, x, y);
        else
            _window.HideCursor();
    }

    public static PixelFormat ToPixelFormat(VirtioGpuFormat format) => format switch
    {
        VirtioGpuFormat.B8G8R8A8_UNORM => PixelFormat.Bgra,
        VirtioGpuFormat.B8G8R8X8_UNORM => PixelFormat.Bgrx,
        VirtioGpuFormat.A8R8G8B8_UNORM => PixelFormat.Argb,
        VirtioGpuFormat.X8R8G8B8_UNORM => PixelFormat.Xrgb,
        VirtioGpuFormat.R8G8B8A8_UNORM => PixelFormat.Rgba,
        VirtioGpuFormat.X8B8G8R8_UNORM => PixelFormat.Xbgr,
        VirtioGpuFormat.A8B8G8R8_UNORM => PixelFormat.Abgr,
        VirtioGpuFormat.R8G8B8X8_UNORM => PixelFormat.Rgbx,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "the GPU accepted a format it does not list"),
    };

    public void Dispose() => _window.Dispose();
}
