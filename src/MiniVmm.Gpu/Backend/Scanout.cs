using MiniVmm.Gpu.Protocol;

namespace MiniVmm.Gpu.Backend;

/// <summary>
/// One display head. Its state (resource, rectangle) is guarded by the backend's resource lock, which
/// <see cref="Capture"/> takes, so a screenshot can be taken from any thread.
/// </summary>
public sealed class Scanout
{
    private readonly Lock _resourceLock;

    internal Scanout(int id, Lock resourceLock)
    {
        Id = id;
        _resourceLock = resourceLock;
    }

    public int Id { get; }

    // Guarded by _resourceLock.
    internal Resource2D? Resource { get; set; }
    internal VirtioGpuRect Rect { get; set; }

    // Guarded by _resourceLock: the frame shown when the guest last disabled this scanout (see LastShown).
    private ScanoutImage? _lastFrame;

    /// <summary>Set when the scanout shows a blob (then <see cref="Resource"/> is the blob's shadow copy).</summary>
    internal ScanoutBlob? Blob { get; set; }

    /// <summary>What showing this scanout costs the host budget now (the window's copies, a blob's shadow).</summary>
    internal long BudgetCharge { get; set; }

    public bool IsEnabled
    {
        get
        {
            lock (_resourceLock)
                return Resource is not null;
        }
    }

    /// <summary>
    /// The scanout's current pixels (its rectangle of the resource, as last transferred), converted to tightly
    /// packed 8-bit RGBA (or BGRA); null when the scanout is disabled.
    /// </summary>
    public ScanoutImage? Capture(PixelOrder order = PixelOrder.Rgba)
    {
        lock (_resourceLock)
            return CaptureLocked(order);
    }

    /// <summary>
    /// What a person last saw on this head: the current frame, or, once the guest has disabled the scanout, the
    /// frame it showed until then, as RGBA (Linux disables every CRTC and resets virtio devices on reboot, so an exit
    /// screenshot would otherwise always be empty after a clean shutdown); null when it never showed anything.
    /// </summary>
    public ScanoutImage? LastShown()
    {
        lock (_resourceLock)
            return CaptureLocked(PixelOrder.Rgba) ?? _lastFrame;
    }

    /// <summary>Called under the resource lock just before the scanout is disabled: keeps its frame for <see cref="LastShown"/>.</summary>
    internal void KeepLastFrameLocked() => _lastFrame = CaptureLocked(PixelOrder.Rgba) ?? _lastFrame;

    private ScanoutImage? CaptureLocked(PixelOrder order)
    {
        if (Resource is not { } resource)
            return null;
        var r = Rect;
        int width = (int)r.Width, height = (int)r.Height;
        var pixels = new byte[width * height * PixelFormats.BytesPerPixel];
        int start = (int)r.Y * resource.Stride + (int)r.X * PixelFormats.BytesPerPixel;
        PixelFormats.Convert(resource.Pixels.AsSpan(start), resource.Stride, width, height, resource.Format, pixels, order);
        return new ScanoutImage(width, height, pixels, order);
    }
}

/// <summary>A captured frame: tightly packed 4-byte pixels in <see cref="Order"/>.</summary>
public sealed record ScanoutImage(int Width, int Height, byte[] Pixels, PixelOrder Order);
