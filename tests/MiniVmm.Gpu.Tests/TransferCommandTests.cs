using MiniVmm.Gpu.Protocol;
using MiniVmm.Memory;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests;

public sealed class TransferCommandTests : IDisposable
{
    private const uint Width = 40, Height = 30, Stride = Width * 4;
    private readonly GpuHarness _h = new();
    private readonly GuestAddress _backing;

    public TransferCommandTests()
    {
        _backing = _h.CreateBackedResource(2, Width, Height, VirtioGpuFormat.R8G8B8A8_UNORM);
        Assert.Equal(RESP_OK_NODATA, _h.SetScanout(0, 2, GpuHarness.Rect(0, 0, Width, Height)).Type);
    }

    public void Dispose() => _h.Dispose();

    private void FillGuest(Func<uint, uint, byte[]> pixel)
    {
        var bytes = new byte[Stride * Height];
        for (uint y = 0; y < Height; y++)
            for (uint x = 0; x < Width; x++)
                pixel(x, y).CopyTo(bytes, (int)(y * Stride + x * 4));
        _h.Memory.Write(_backing, bytes);
    }

    private byte[] HostPixel(uint x, uint y) => _h.Device.Scanouts[0].Capture()!.Pixels.AsSpan((int)(y * Stride + x * 4), 4).ToArray();

    [Fact]
    public void FullTransferCopiesEveryRowAcrossPageBoundaries()
    {
        FillGuest((x, y) => [(byte)x, (byte)y, 0x77, 0xFF]);
        Assert.Equal(RESP_OK_NODATA, _h.Transfer(2, GpuHarness.Rect(0, 0, Width, Height), 0).Type);
        Assert.Equal([0, 0, 0x77, 0xFF], HostPixel(0, 0));
        Assert.Equal([39, 29, 0x77, 0xFF], HostPixel(39, 29));
        Assert.Equal([25, 26, 0x77, 0xFF], HostPixel(25, 26)); // row 26 starts at 4160: second page
    }

    [Fact]
    public void SubRectUsesTheOffsetOfItsFirstByteLikeLinux()
    {
        FillGuest((x, y) => [(byte)x, (byte)y, 1, 0xFF]);
        // Linux: offset = y * stride + x * bpp of the damaged rectangle.
        var r = GpuHarness.Rect(5, 7, 10, 4);
        Assert.Equal(RESP_OK_NODATA, _h.Transfer(2, r, 7 * Stride + 5 * 4).Type);
        Assert.Equal([5, 7, 1, 0xFF], HostPixel(5, 7));
        Assert.Equal([14, 10, 1, 0xFF], HostPixel(14, 10));
        Assert.Equal([0, 0, 0, 0], HostPixel(4, 7)); // left of the rect: never transferred
    }

    [Theory]
    [InlineData(0u, 0u, 41u, 1u)]
    [InlineData(0u, 0u, 1u, 31u)]
    [InlineData(40u, 0u, 1u, 1u)]
    [InlineData(0xFFFF_FFFFu, 0u, 2u, 1u)] // x + width wraps
    [InlineData(0u, 0xFFFF_FFF0u, 1u, 0x20u)]
    public void RectOutsideTheResourceIsAnInvalidParameter(uint x, uint y, uint w, uint h) =>
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, _h.Transfer(2, GpuHarness.Rect(x, y, w, h), 0).Type);

    [Theory]
    [InlineData(4u)]                         // last row runs one pixel past the backing
    [InlineData(Stride * Height)]            // starts at the end
    [InlineData(0xFFFF_FFFF_FFFF_FFF0UL)]    // offset + span would wrap
    public void OffsetBeyondTheBackingIsAnInvalidParameter(ulong offset) =>
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, _h.Transfer(2, GpuHarness.Rect(0, 0, Width, Height), offset).Type);

    [Fact]
    public void ShortBackingServesOnlyWhatItCovers()
    {
        using var h = new GpuHarness();
        Assert.Equal(RESP_OK_NODATA, h.CreateResource(3, VirtioGpuFormat.B8G8R8X8_UNORM, 16, 16).Type);
        var half = h.AllocatePages(16 * 4 * 8);
        Assert.Equal(RESP_OK_NODATA, h.AttachBacking(3, (half.Value, 16 * 4 * 8)).Type);
        Assert.Equal(RESP_OK_NODATA, h.Transfer(3, GpuHarness.Rect(0, 0, 16, 8), 0).Type);
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, h.Transfer(3, GpuHarness.Rect(0, 0, 16, 9), 0).Type);
    }

    [Fact]
    public void UnknownResourceAndMissingBackingAreErrors()
    {
        Assert.Equal(RESP_ERR_INVALID_RESOURCE_ID, _h.Transfer(9, GpuHarness.Rect(0, 0, 1, 1), 0).Type);
        Assert.Equal(RESP_OK_NODATA, _h.CreateResource(3, VirtioGpuFormat.B8G8R8X8_UNORM, 8, 8).Type);
        Assert.Equal(RESP_ERR_UNSPEC, _h.Transfer(3, GpuHarness.Rect(0, 0, 8, 8), 0).Type);
    }

    [Fact]
    public void EmptyRectIsANoOp() =>
        Assert.Equal(RESP_OK_NODATA, _h.Transfer(2, GpuHarness.Rect(3, 3, 0, 0), 0).Type);
}
