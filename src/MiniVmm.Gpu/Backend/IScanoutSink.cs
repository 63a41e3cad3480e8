using MiniVmm.Gpu.Protocol;

namespace MiniVmm.Gpu.Backend;

/// <summary>
/// Where finished frames go (a host window, a test). Called on the device thread after the backend's resource lock
/// is released, in command order (see <see cref="VirtioGpuBackend"/>): copy what you need before returning, and don't
/// call back into the device.
/// </summary>
public interface IScanoutSink
{
    /// <summary>
    /// RESOURCE_FLUSH of a resource shown on <paramref name="scanoutId"/>. <paramref name="pixels"/> starts at the
    /// scanout's top-left pixel; <paramref name="dirtyRect"/> is relative to the scanout.
    /// </summary>
    void Present(int scanoutId, ReadOnlySpan<byte> pixels, int width, int height, int strideBytes,
        VirtioGpuFormat format, VirtioGpuRect dirtyRect);

    /// <summary>The scanout shows nothing (SET_SCANOUT with resource 0, its resource was destroyed, or reset).</summary>
    void Disable(int scanoutId);

    /// <summary>UPDATE_CURSOR: a new image (null hides the cursor) at (<paramref name="x"/>, <paramref name="y"/>).</summary>
    void UpdateCursor(int scanoutId, CursorImage? image, int x, int y);

    /// <summary>MOVE_CURSOR: the cursor moved, same image.</summary>
    void MoveCursor(int scanoutId, int x, int y);
}

/// <summary>A cursor image, 64x64 tightly packed B, G, R, A bytes (Wayland ARGB8888), with its hotspot.</summary>
public sealed record CursorImage(int Width, int Height, byte[] Bgra, int HotX, int HotY);

/// <summary>A sink that drops everything (headless).</summary>
public sealed class NullScanoutSink : IScanoutSink
{
    public static NullScanoutSink Instance { get; } = new();

    public void Present(int scanoutId, ReadOnlySpan<byte> pixels, int width, int height, int strideBytes,
        VirtioGpuFormat format, VirtioGpuRect dirtyRect)
    {
    }

    public void Disable(int scanoutId)
    {
    }

    public void UpdateCursor(int scanoutId, CursorImage? image, int x, int y)
    {
    }

    public void MoveCursor(int scanoutId, int x, int y)
    {
    }
}
