namespace MiniVmm.Wayland;

/// <summary>
/// 32-bit pixel layouts named by their byte order in memory: <see cref="Bgrx"/> is B,G,R,X at increasing addresses
/// (virtio-gpu B8G8R8X8_UNORM, DRM/Wayland XRGB8888 on little-endian). The window shows all of them as XRGB8888.
/// </summary>
public enum PixelFormat
{
    Bgrx,
    Bgra,
    Rgbx,
    Rgba,
    Xrgb,
    Argb,
    Xbgr,
    Abgr,
}

/// <summary>A rectangle in pixels; empty when either side is not positive.</summary>
public readonly record struct PixelRect(int X, int Y, int Width, int Height)
{
    public static PixelRect Empty => default;

    public bool IsEmpty => Width <= 0 || Height <= 0;

    public static implicit operator PixelRect((int X, int Y, int Width, int Height) rect) =>
        new(rect.X, rect.Y, rect.Width, rect.Height);

    public PixelRect Intersect(PixelRect other)
    {
        var left = Math.Max(X, other.X);
        var top = Math.Max(Y, other.Y);
        // long: X + Width may overflow for hostile guest rectangles.
        var right = Math.Min((long)X + Width, (long)other.X + other.Width);
        var bottom = Math.Min((long)Y + Height, (long)other.Y + other.Height);
        return right <= left || bottom <= top ? Empty : new PixelRect(left, top, (int)(right - left), (int)(bottom - top));
    }

    /// <summary>The bounding box of both (a conservative union: it may cover pixels neither covers).</summary>
    public PixelRect Union(PixelRect other)
    {
        if (IsEmpty)
            return other;
        if (other.IsEmpty)
            return this;
        var left = Math.Min(X, other.X);
        var top = Math.Min(Y, other.Y);
        var right = Math.Max(X + Width, other.X + other.Width);
        var bottom = Math.Max(Y + Height, other.Y + other.Height);
        return new PixelRect(left, top, right - left, bottom - top);
    }
}
