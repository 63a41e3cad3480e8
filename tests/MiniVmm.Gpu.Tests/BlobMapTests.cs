using MiniVmm.Gpu.Protocol;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests;

public sealed class BlobMapTests : IDisposable
{
    private const ulong RegionSize = 1 << 20;
    private readonly FakeHostVisibleRegion _region = new(RegionSize);
    private readonly GpuHarness _h;

    public BlobMapTests()
    {
        _h = new GpuHarness(GpuHarness.BlobOptions(RegionSize), region: _region);
        Assert.Equal(RESP_OK_NODATA, _h.CreateContext(1, contextInit: 0).Type);
    }

    public void Dispose() => _h.Dispose();

    [Fact]
    public void LifecycleCreateMapUnmapUnref()
    {
        Assert.Equal(RESP_OK_NODATA, _h.CreateHostBlob(2, 8192).Type);
        var map = _h.MapBlob(2, 0x3000);
        Assert.Equal(RESP_OK_MAP_INFO, map.Type);
        Assert.Equal(32u, map.UsedLength);
        Assert.Equal(VirtioGpuConstants.VIRTIO_GPU_MAP_CACHE_CACHED, map.As<VirtioGpuRespMapInfo>().MapInfo);
        Assert.Equal(8192UL, _region.Mappings[0x3000].Size);
        Assert.Equal(RESP_OK_NODATA, _h.UnmapBlob(2).Type);
        Assert.Empty(_region.Mappings);
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, _h.UnmapBlob(2).Type); // not mapped any more
        Assert.Equal(RESP_OK_MAP_INFO, _h.MapBlob(2, 0).Type); // and can be mapped again
        Assert.Equal(RESP_OK_NODATA, _h.Unref(2).Type); // unref of a mapped blob unmaps it first
        Assert.Empty(_region.Mappings);
        Assert.Equal(0L, _h.Device.Backend.HostBytes);
    }

    [Fact]
    public void MappingTwiceIsRefused()
    {
        Assert.Equal(RESP_OK_NODATA, _h.CreateHostBlob(2, 4096).Type);
        Assert.Equal(RESP_OK_MAP_INFO, _h.MapBlob(2, 0).Type);
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, _h.MapBlob(2, 0x10000).Type);
        Assert.Single(_region.Mappings);
    }

    [Theory]
    [InlineData(0x2000UL, true)] // starts inside the first blob
    [InlineData(0x0000UL, true)] // ends inside it
    [InlineData(0x1000UL, true)] // same start
    [InlineData(0x4000UL, false)] // just after
    [InlineData(0x0000UL + 0x5000, false)]
    public void OverlapsAreRefused(ulong offset, bool overlaps)
    {
        Assert.Equal(RESP_OK_NODATA, _h.CreateHostBlob(2, 0x3000).Type); // at 0x1000..0x4000
        Assert.Equal(RESP_OK_NODATA, _h.CreateHostBlob(3, 0x2000).Type);
        Assert.Equal(RESP_OK_MAP_INFO, _h.MapBlob(2, 0x1000).Type);
        var reply = _h.MapBlob(3, offset);
        Assert.Equal(overlaps ? RESP_ERR_INVALID_PARAMETER : RESP_OK_MAP_INFO, reply.Type);
        Assert.Equal(overlaps ? 1 : 2, _region.Mappings.Count);
    }

    [Theory]
    [InlineData(RegionSize)] // starts at the end
    [InlineData(RegionSize - 0x1000)] // ends past the end
    [InlineData(0x800UL)] // unaligned
    [InlineData(ulong.MaxValue & ~0xfffUL)] // offset + size would wrap
    public void OffsetsOutsideTheRegionAreRefused(ulong offset)
    {
        Assert.Equal(RESP_OK_NODATA, _h.CreateHostBlob(2, 0x2000).Type);
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, _h.MapBlob(2, offset).Type);
        Assert.Empty(_region.Mappings);
    }

    [Fact]
    public void OnlyMappableHostBlobsMap()
    {
        Assert.Equal(RESP_ERR_INVALID_RESOURCE_ID, _h.MapBlob(9, 0).Type);
        Assert.Equal(RESP_ERR_INVALID_RESOURCE_ID, _h.UnmapBlob(9).Type);
        Assert.Equal(RESP_OK_NODATA, _h.CreateHostBlob(2, 4096, flags: GpuHarness.Shareable).Type);
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, _h.MapBlob(2, 0).Type); // not MAPPABLE
        var pages = _h.AllocatePages(4096);
        Assert.Equal(RESP_OK_NODATA, _h.CreateGuestBlob(3, 4096, [(pages.Value, 4096)], flags: GpuHarness.Mappable).Type);
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, _h.MapBlob(3, 0).Type); // guest pages: the guest maps them itself
        _h.CreateBackedResource(4, 4, 4);
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, _h.MapBlob(4, 0).Type); // 2D
        Assert.Empty(_region.Mappings);
    }

    [Fact]
    public void RegionFailureIsReportedAndNothingIsMapped()
    {
        Assert.Equal(RESP_OK_NODATA, _h.CreateHostBlob(2, 4096).Type);
        _region.FailNext = "no slot";
        var reply = _h.MapBlob(2, 0);
        Assert.Equal(RESP_ERR_UNSPEC, reply.Type);
        Assert.Contains(_h.Trace, line => line.Contains("no slot", StringComparison.Ordinal));
        Assert.Equal(RESP_OK_MAP_INFO, _h.MapBlob(2, 0).Type); // the blob was left unmapped
    }

    [Fact]
    public void WithoutARegionMapIsUnsupported()
    {
        using var h = new GpuHarness(GpuHarness.BlobOptions(0));
        Assert.Equal(RESP_OK_NODATA, h.CreateContext(1, contextInit: 0).Type);
        Assert.Equal(RESP_OK_NODATA, h.CreateHostBlob(2, 4096).Type);
        Assert.Equal(RESP_ERR_UNSPEC, h.MapBlob(2, 0).Type);
    }

    [Fact]
    public void ResetUnmapsEverything()
    {
        Assert.Equal(RESP_OK_NODATA, _h.CreateHostBlob(2, 4096).Type);
        Assert.Equal(RESP_OK_MAP_INFO, _h.MapBlob(2, 0).Type);
        _h.Device.Reset();
        Assert.Empty(_region.Mappings);
        Assert.Equal(0, _h.Device.Backend.ContextCount);
        Assert.Equal(0L, _h.Device.Backend.HostBytes);
    }

    [Fact]
    public void HostBlobScanoutReadsTheMemfd()
    {
        Assert.Equal(RESP_OK_NODATA, _h.CreateHostBlob(2, 4096).Type);
        Assert.Equal(RESP_OK_NODATA, _h.SetScanoutBlob(0, 2, GpuHarness.Rect(0, 0, 4, 4), 4, 4, 16).Type);
        Assert.Equal(0xff, _h.Device.Scanouts[0].Capture()!.Pixels[3]); // zero-filled pages, opaque X
    }
}
