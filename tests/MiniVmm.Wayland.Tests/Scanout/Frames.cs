namespace MiniVmm.Wayland.Tests.Scanout;

/// <summary>Test frames in any <see cref="PixelFormat"/>, and colour checks against screenshots.</summary>
internal static class Frames
{
    public static readonly (byte R, byte G, byte B) Red = (255, 0, 0);
    public static readonly (byte R, byte G, byte B) Green = (0, 255, 0);
    public static readonly (byte R, byte G, byte B) Blue = (0, 0, 255);
    public static readonly (byte R, byte G, byte B) White = (255, 255, 255);
    public static readonly (byte R, byte G, byte B) Grey = (128, 128, 128);
    public static readonly (byte R, byte G, byte B) Black = (0, 0, 0);

    /// <summary>Drawn in a frame's top-left corner so a test can find the window on a desktop-shell screenshot.</summary>
    public static readonly (byte R, byte G, byte B) Marker = (255, 0, 255);

    public static byte[] Solid(int width, int height, int stride, PixelFormat format, (byte R, byte G, byte B) colour)
    {
        var frame = new byte[stride * height];
        Fill(frame, stride, format, new PixelRect(0, 0, width, height), colour);
        return frame;
    }

    /// <summary>Red, green / blue, white quadrants.</summary>
    public static byte[] Quadrants(int width, int height, int stride, PixelFormat format)
    {
        var frame = new byte[stride * height];
        int halfW = width / 2, halfH = height / 2;
        Fill(frame, stride, format, (0, 0, halfW, halfH), Red);
        Fill(frame, stride, format, (halfW, 0, width - halfW, halfH), Green);
        Fill(frame, stride, format, (0, halfH, halfW, height - halfH), Blue);
        Fill(frame, stride, format, (halfW, halfH, width - halfW, height - halfH), White);
        return frame;
    }

    public static void Fill(byte[] frame, int stride, PixelFormat format, PixelRect rect, (byte R, byte G, byte B) colour)
    {
        var (r, g, b) = colour;
        byte[] pixel = format switch
        {
            PixelFormat.Bgrx or PixelFormat.Bgra => [b, g, r, 255],
            PixelFormat.Rgbx or PixelFormat.Rgba => [r, g, b, 255],
            PixelFormat.Xrgb or PixelFormat.Argb => [255, r, g, b],
            _ => [255, b, g, r],
        };
        for (var y = rect.Y; y < rect.Y + rect.Height; y++)
        {
            for (var x = rect.X; x < rect.X + rect.Width; x++)
                pixel.CopyTo(frame, y * stride + x * 4);
        }
    }

    public static byte[] Marked(byte[] frame, int stride, PixelFormat format)
    {
        Fill(frame, stride, format, (0, 0, 4, 4), Marker);
        return frame;
    }

    /// <summary>Where the window's top-left pixel is on the screenshot.</summary>
    public static (int X, int Y) Locate(Support.PngImage shot) =>
        shot.Find(Marker) ?? throw new Xunit.Sdk.XunitException("the window's marker is not on the screenshot");

    public static void AssertColour(Support.PngImage shot, (int X, int Y) origin, int x, int y, (byte R, byte G, byte B) expected) =>
        AssertColour(shot, origin.X + x, origin.Y + y, expected);

    public static void AssertColour(Support.PngImage shot, int x, int y, (byte R, byte G, byte B) expected)
    {
        var (r, g, b, _) = shot.GetPixel(x, y);
        Assert.True((r, g, b) == expected, $"pixel ({x},{y}) is ({r},{g},{b}), expected {expected}");
    }
}
