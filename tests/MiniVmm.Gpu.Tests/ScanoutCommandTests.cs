using MiniVmm.Gpu.Protocol;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests;

public sealed class ScanoutCommandTests : IDisposable
{
    private readonly GpuHarness _h = new(new GpuOptions { Scanouts = 2 });

    public ScanoutCommandTests() => _h.CreateBackedResource(2, 64, 48);

    public void Dispose() => _h.Dispose();

    [Theory]
    [InlineData(2u)]
    [InlineData(16u)]
    [InlineData(0xFFFF_FFFFu)]
    public void UnknownScanoutIsInvalid(uint scanoutId) =>
        Assert.Equal(RESP_ERR_INVALID_SCANOUT_ID, _h.SetScanout(scanoutId, 2, GpuHarness.Rect(0, 0, 64, 48)).Type);

    [Fact]
    public void UnknownResourceIsInvalid() =>
        Assert.Equal(RESP_ERR_INVALID_RESOURCE_ID, _h.SetScanout(0, 5, GpuHarness.Rect(0, 0, 64, 48)).Type);

    [Theory]
    [InlineData(0u, 0u, 65u, 48u)]
    [InlineData(1u, 1u, 64u, 48u)]
    [InlineData(0u, 0u, 0u, 48u)]
    [InlineData(0u, 0u, 64u, 0u)]
    [InlineData(0xFFFF_FFFFu, 0u, 2u, 2u)]
    public void RectMustLieInsideTheResource(uint x, uint y, uint w, uint h)
    {
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, _h.SetScanout(0, 2, GpuHarness.Rect(x, y, w, h)).Type);
        Assert.False(_h.Device.Scanouts[0].IsEnabled);
    }

    [Fact]
    public void ResourceZeroDisables()
    {
        Assert.Equal(RESP_OK_NODATA, _h.SetScanout(1, 2, GpuHarness.Rect(0, 0, 64, 48)).Type);
        Assert.True(_h.Device.Scanouts[1].IsEnabled);
        Assert.Equal(RESP_OK_NODATA, _h.SetScanout(1, 0, default).Type);
        Assert.False(_h.Device.Scanouts[1].IsEnabled);
        Assert.Equal([1], _h.Sink.Disabled);
    }

    [Fact]
    public void FlushPresentsTheIntersectionWithEachScanout()
    {
        // Scanout 0 shows the whole resource, scanout 1 a 32x16 window at (16, 8).
        Assert.Equal(RESP_OK_NODATA, _h.SetScanout(0, 2, GpuHarness.Rect(0, 0, 64, 48)).Type);
        Assert.Equal(RESP_OK_NODATA, _h.SetScanout(1, 2, GpuHarness.Rect(16, 8, 32, 16)).Type);
        Assert.Equal(RESP_OK_NODATA, _h.Flush(2, GpuHarness.Rect(40, 20, 20, 20)).Type);
        Assert.Equal(2, _h.Sink.Frames.Count);
        var whole = _h.Sink.Frames.Single(f => f.ScanoutId == 0);
        Assert.Equal((64, 48, 256), (whole.Width, whole.Height, whole.Stride));
        Assert.Equal("40,20 20x20", whole.Dirty.ToString());
        var window = _h.Sink.Frames.Single(f => f.ScanoutId == 1);
        Assert.Equal((32, 16), (window.Width, window.Height));
        Assert.Equal("24,12 8x4", window.Dirty.ToString()); // (40..48, 20..24) relative to (16, 8)
        Assert.Equal(15 * 256 + 32 * 4, window.Pixels.Length); // last row ends at the window's right edge
    }

    [Fact]
    public void FlushOutsideAScanoutPresentsNothingThere()
    {
        Assert.Equal(RESP_OK_NODATA, _h.SetScanout(1, 2, GpuHarness.Rect(0, 0, 8, 8)).Type);
        Assert.Equal(RESP_OK_NODATA, _h.Flush(2, GpuHarness.Rect(10, 10, 4, 4)).Type);
        Assert.Empty(_h.Sink.Frames);
    }

    [Fact]
    public void FlushErrors()
    {
        Assert.Equal(RESP_ERR_INVALID_RESOURCE_ID, _h.Flush(7, GpuHarness.Rect(0, 0, 1, 1)).Type);
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, _h.Flush(2, GpuHarness.Rect(0, 0, 65, 1)).Type);
        Assert.Equal(RESP_OK_NODATA, _h.Flush(2, GpuHarness.Rect(0, 0, 64, 48)).Type); // not on any scanout: fine
        Assert.Empty(_h.Sink.Frames);
    }
}
