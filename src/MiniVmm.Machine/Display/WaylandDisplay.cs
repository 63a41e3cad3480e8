using MiniVmm.Gpu.Backend;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Wayland;

namespace MiniVmm.Machine.Display;

/// <summary>
/// Shows each scanout as its own xdg_toplevel on the host compositor (<see cref="ScanoutView"/>): scanout 0's window
/// opens at start-up, the others on their first frame. The GPU calls in on its device thread with its lock held;
/// <see cref="ScanoutWindow.Present"/> only copies into a shm buffer and commits, so the guest never waits on the
/// compositor (except once per extra head, while its window connects).
/// </summary>
/// <remarks>
/// A window the compositor closes or fails only stops showing its own scanout; nothing else reacts (as with one head).
/// A window that throws on a frame or a cursor (a size it cannot show, a broken connection) is logged and closed,
/// and its scanout runs on headless: no display failure reaches the device thread.
/// </remarks>
public sealed class WaylandDisplay : IDisplay
{
    private readonly ScanoutView[] _views;
    private readonly string _socketPath;
    // Guards the views and the cursor; the GPU already serialises its calls, this only orders them against Dispose.
    private readonly Lock _lock = new();
    private CursorImage? _cursorImage;
    private (int ScanoutId, int X, int Y) _cursorPlace;
    private int _cursorShownOn = -1; // the scanout whose window draws the cursor now, -1 for none
    // Windows open before the machine has its input devices: they all speak to this, which the machine connects later.
    private readonly InputForwarder _input = new();

    private WaylandDisplay(string socketPath, TextWriter? log)
    {
        _socketPath = socketPath;
        _views = new ScanoutView[VirtioGpuConstants.VIRTIO_GPU_MAX_SCANOUTS];
        for (var id = 0; id < _views.Length; id++)
            _views[id] = new ScanoutView(id, socketPath, log, _input);
    }

    /// <summary>Connects and maps scanout 0's window; throws <see cref="WaylandException"/> with one line when unreachable.</summary>
    public static WaylandDisplay Open(string socketPath, TextWriter? log = null)
    {
        var display = new WaylandDisplay(socketPath, log);
        display._views[0].Open();
        return display;
    }

    public string Description => $"window on {_socketPath}";

    public void ConnectInput(IWindowInput input) => _input.Target = input;

    /// <summary>Passes input on to the target once there is one (until then the guest has no devices to get it).</summary>
    private sealed class InputForwarder : IWindowInput
    {
        private volatile IWindowInput? _target;

        public IWindowInput? Target { set => _target = value; }

        public void Key(uint code, bool pressed) => _target?.Key(code, pressed);
        public void PointerMotion(double x, double y, int width, int height) => _target?.PointerMotion(x, y, width, height);
        public void PointerButton(uint code, bool pressed) => _target?.PointerButton(code, pressed);
        public void PointerWheel(int vertical, int horizontal) => _target?.PointerWheel(vertical, horizontal);
    }

    /// <summary>Scanout 0's window (open from the start).</summary>
    public ScanoutWindow Window => _views[0].Window!;

    /// <summary>The window of <paramref name="scanoutId"/>, or null before its first frame (or when it could not open).</summary>
    public ScanoutWindow? WindowFor(int scanoutId)
    {
        lock (_lock)
            return ViewOf(scanoutId)?.Window;
    }

    public void Present(int scanoutId, ReadOnlySpan<byte> pixels, int width, int height, int strideBytes,
        VirtioGpuFormat format, VirtioGpuRect dirtyRect)
    {
        lock (_lock)
        {
            if (ViewOf(scanoutId) is not { } view)
                return;
            bool opened;
            try
            {
                opened = view.Present(pixels, width, height, strideBytes, ToPixelFormat(format),
                    ((int)dirtyRect.X, (int)dirtyRect.Y, (int)dirtyRect.Width, (int)dirtyRect.Height));
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                GiveUpLocked(view, error);
                return;
            }
            // The guest may have put its cursor on this head before the head's first frame.
            if (opened && _cursorPlace.ScanoutId == scanoutId)
                PlaceCursorLocked(_cursorPlace);
        }
    }

    public void Disable(int scanoutId)
    {
        lock (_lock)
        {
            if (ViewOf(scanoutId) is not { } view)
                return;
            GuardedLocked(view, v => v.ShowBlack());
        }
    }

    /// <summary>Runs one call on a view; a throw closes that view (logged), never the caller: false then.</summary>
    private bool GuardedLocked(ScanoutView view, Action<ScanoutView> call)
    {
        try
        {
            call(view);
            return true;
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            GiveUpLocked(view, error);
            return false;
        }
    }

    /// <summary>Closes a view whose window threw; the cursor is no longer drawn there.</summary>
    private void GiveUpLocked(ScanoutView view, Exception error)
    {
        if (Array.IndexOf(_views, view) == _cursorShownOn)
            _cursorShownOn = -1;
        view.GiveUp(error);
    }

    // The cursor position is the image's top-left corner (Linux sends the cursor plane's crtc_x/crtc_y); the hotspot
    // would only matter if the host pointer drove the guest cursor, which these windows do not do. The cursor is drawn
    // in its scanout's window only; the image is kept so that a MOVE_CURSOR to another scanout shows it there.
    public void UpdateCursor(int scanoutId, CursorImage? image, int x, int y)
    {
        lock (_lock)
        {
            _cursorImage = image;
            PlaceCursorLocked((scanoutId, x, y));
        }
    }

    public void MoveCursor(int scanoutId, int x, int y)
    {
        lock (_lock)
        {
            if (scanoutId == _cursorShownOn)
            {
                _cursorPlace = (scanoutId, x, y);
                GuardedLocked(_views[scanoutId], v => v.Window!.MoveCursor(x, y));
            }
            else
            {
                PlaceCursorLocked((scanoutId, x, y));
            }
        }
    }

    /// <summary>Hides the cursor where it was drawn and draws it in the window of <paramref name="place"/>'s scanout, if open.</summary>
    private void PlaceCursorLocked((int ScanoutId, int X, int Y) place)
    {
        _cursorPlace = place;
        if (_cursorShownOn >= 0 && _cursorShownOn != place.ScanoutId)
            GuardedLocked(_views[_cursorShownOn], v => v.Window!.HideCursor());
        _cursorShownOn = -1;
        if (ViewOf(place.ScanoutId) is not { Window: not null } target)
            return;
        if (_cursorImage is { } image)
        {
            if (GuardedLocked(target, v => v.Window!.ShowCursor(image.Bgra, image.Width, image.Height, place.X, place.Y)))
                _cursorShownOn = place.ScanoutId;
        }
        else
        {
            GuardedLocked(target, v => v.Window!.HideCursor());
        }
    }

    /// <summary>The view of a scanout id the GPU passed on (it checks them; this keeps a bad one harmless).</summary>
    private ScanoutView? ViewOf(int scanoutId) => (uint)scanoutId < (uint)_views.Length ? _views[scanoutId] : null;

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

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var view in _views)
                view.Dispose();
        }
    }
}
