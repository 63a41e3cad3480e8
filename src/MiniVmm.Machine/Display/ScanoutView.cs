using MiniVmm.Wayland;

namespace MiniVmm.Machine.Display;

/// <summary>
/// One scanout's window for <see cref="WaylandDisplay"/>: opened on the scanout's first frame (or at start-up for
/// scanout 0), black while the scanout is disabled. A window that cannot be opened is reported once and never
/// retried, so a guest flushing 60 frames a second does not pay a failed connect on each one.
/// Not thread-safe: the display serialises calls.
/// </summary>
internal sealed class ScanoutView(int scanoutId, string socketPath, TextWriter? log, IWindowInput input) : IDisposable
{
    private bool _mayNotOpen; // it failed once, or the display was disposed
    private (int Width, int Height) _lastSize;

    /// <summary>Null until the first frame (and for good if the compositor refused the window).</summary>
    public ScanoutWindow? Window { get; private set; }

    /// <summary>Scanout 0 keeps the plain title (as with one head); the others say which head they show.</summary>
    public static string TitleFor(int scanoutId) => scanoutId == 0 ? "MiniVmm" : $"MiniVmm scanout {scanoutId}";

    /// <summary>Connects and maps the window now; throws <see cref="WaylandException"/> with one line when unreachable.</summary>
    public void Open()
    {
        Window ??= new ScanoutWindow(new ScanoutWindowOptions
        {
            SocketPath = socketPath,
            Title = TitleFor(scanoutId),
            Log = log,
            LogPrefix = scanoutId == 0 ? "wayland: " : $"wayland: scanout {scanoutId}: ",
            Input = input,
        });
    }

    /// <summary>Shows a frame, opening the window first if needed; true when this call opened it.</summary>
    public bool Present(ReadOnlySpan<byte> pixels, int width, int height, int strideBytes, PixelFormat format, PixelRect damage)
    {
        var opened = Window is null && TryOpen();
        if (Window is null)
            return false;
        _lastSize = (width, height);
        Window.Present(pixels, width, height, strideBytes, format, damage);
        return opened;
    }

    /// <summary>Unmapping the toplevel would close the window; a disabled scanout shows black of its last size instead.</summary>
    public void ShowBlack()
    {
        var (width, height) = _lastSize;
        if (Window is null || width == 0)
            return;
        var black = new byte[width * height * 4];
        Window.Present(black, width, height, width * 4, PixelFormat.Bgrx, new PixelRect(0, 0, width, height));
    }

    public void Dispose()
    {
        _mayNotOpen = true; // a frame racing the machine's shutdown must not open a new window
        Window?.Dispose();
    }

    /// <summary>
    /// The window failed on a frame (a size it cannot show, a compositor that broke the protocol): it is closed and
    /// never reopened, and this scanout runs on headless. The guest keeps its device; only the picture is gone.
    /// </summary>
    public void GiveUp(Exception error)
    {
        log?.WriteLine($"wayland: scanout {scanoutId} is no longer shown: {error.GetType().Name}: {error.Message}");
        _mayNotOpen = true;
        var window = Window;
        Window = null;
        try
        {
            window?.Dispose();
        }
        catch (Exception disposeError) when (disposeError is not OutOfMemoryException)
        {
            log?.WriteLine($"wayland: scanout {scanoutId}: closing the failed window: {disposeError.Message}");
        }
    }

    private bool TryOpen()
    {
        if (_mayNotOpen)
            return false;
        try
        {
            Open();
            return true;
        }
        catch (WaylandException error)
        {
            _mayNotOpen = true;
            log?.WriteLine($"wayland: scanout {scanoutId} is not shown: {error.Message}");
            return false;
        }
    }
}
