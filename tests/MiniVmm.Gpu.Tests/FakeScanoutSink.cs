using MiniVmm.Gpu.Backend;
using MiniVmm.Gpu.Protocol;

namespace MiniVmm.Gpu.Tests;

/// <summary>Records what the device showed: every Present (pixels copied), Disable and cursor call.</summary>
internal sealed class FakeScanoutSink : IScanoutSink
{
    public sealed record Frame(int ScanoutId, byte[] Pixels, int Width, int Height, int Stride, VirtioGpuFormat Format, VirtioGpuRect Dirty)
    {
        /// <summary>The 4 bytes of pixel (x, y) relative to the scanout.</summary>
        public byte[] PixelAt(int x, int y) => Pixels.AsSpan(y * Stride + x * 4, 4).ToArray();
    }

    public List<Frame> Frames { get; } = [];
    public List<int> Disabled { get; } = [];
    public List<(int ScanoutId, CursorImage? Image, int X, int Y)> CursorUpdates { get; } = [];
    public List<(int ScanoutId, int X, int Y)> CursorMoves { get; } = [];

    public void Present(int scanoutId, ReadOnlySpan<byte> pixels, int width, int height, int strideBytes,
        VirtioGpuFormat format, VirtioGpuRect dirtyRect) =>
        Frames.Add(new Frame(scanoutId, pixels.ToArray(), width, height, strideBytes, format, dirtyRect));

    public void Disable(int scanoutId) => Disabled.Add(scanoutId);

    public void UpdateCursor(int scanoutId, CursorImage? image, int x, int y) => CursorUpdates.Add((scanoutId, image, x, y));

    public void MoveCursor(int scanoutId, int x, int y) => CursorMoves.Add((scanoutId, x, y));
}
