namespace MiniVmm.GuestProxy.Shm;

/// <summary>A rectangle in buffer pixels (x, y, width, height), never empty once in a <see cref="DamageRegion"/>.</summary>
internal readonly record struct PixelBox(int X, int Y, int Width, int Height)
{
    public bool Contains(PixelBox other) =>
        other.X >= X && other.Y >= Y && other.X + other.Width <= X + Width && other.Y + other.Height <= Y + Height;

    public PixelBox Union(PixelBox other)
    {
        int left = Math.Min(X, other.X), top = Math.Min(Y, other.Y);
        return new(left, top, Math.Max(X + Width, other.X + other.Width) - left, Math.Max(Y + Height, other.Y + other.Height) - top);
    }

    /// <summary>
    /// The part of (x, y, w, h) — the client's numbers, scaled by <paramref name="scale"/>, any values at all — inside a
    /// <paramref name="width"/> × <paramref name="height"/> buffer; null when nothing is.
    /// </summary>
    public static PixelBox? Clip(long x, long y, long w, long h, long scale, int width, int height)
    {
        if (w <= 0 || h <= 0)
            return null;
        long left = Math.Max(0, x * scale), top = Math.Max(0, y * scale);
        long right = Math.Min(width, (x + w) * scale), bottom = Math.Min(height, (y + h) * scale);
        return right > left && bottom > top ? new((int)left, (int)top, (int)(right - left), (int)(bottom - top)) : null;
    }
}

/// <summary>
/// The parts of one host buffer that are older than the client's buffer: a few rectangles, merged into their bounding
/// box past <see cref="MaxBoxes"/> (copying a little more is always correct; copying less never is).
/// </summary>
internal sealed class DamageRegion
{
    public const int MaxBoxes = 16;
    private readonly List<PixelBox> _boxes = [];

    public IReadOnlyList<PixelBox> Boxes => _boxes;

    public void Add(PixelBox box)
    {
        if (_boxes.Exists(b => b.Contains(box)))
            return;
        _boxes.RemoveAll(box.Contains);
        _boxes.Add(box);
        if (_boxes.Count <= MaxBoxes)
            return;
        var all = _boxes.Aggregate((a, b) => a.Union(b));
        _boxes.Clear();
        _boxes.Add(all);
    }

    public void Clear() => _boxes.Clear();
}
