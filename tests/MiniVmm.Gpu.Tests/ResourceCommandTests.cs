using MiniVmm.Gpu.Protocol;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests;

public sealed class ResourceCommandTests : IDisposable
{
    private readonly GpuHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Theory]
    [InlineData(VirtioGpuFormat.B8G8R8A8_UNORM)]
    [InlineData(VirtioGpuFormat.B8G8R8X8_UNORM)]
    [InlineData(VirtioGpuFormat.A8R8G8B8_UNORM)]
    [InlineData(VirtioGpuFormat.X8R8G8B8_UNORM)]
    [InlineData(VirtioGpuFormat.R8G8B8A8_UNORM)]
    [InlineData(VirtioGpuFormat.X8B8G8R8_UNORM)]
    [InlineData(VirtioGpuFormat.A8B8G8R8_UNORM)]
    [InlineData(VirtioGpuFormat.R8G8B8X8_UNORM)]
    public void Create2DAcceptsEveryFormat(VirtioGpuFormat format)
    {
        var reply = _h.CreateResource(2, format, 64, 32);
        Assert.Equal(RESP_OK_NODATA, reply.Type);
        Assert.Equal(24u, reply.UsedLength);
        Assert.Equal(64 * 32 * 4, _h.Device.Backend.HostBytes);
    }

    [Theory]
    [InlineData(Layout.Linux)]
    [InlineData(Layout.SplitHeader)]
    [InlineData(Layout.BytePerDescriptor)]
    [InlineData(Layout.Indirect)]
    public void Create2DIsGatheredFromAnyLayout(Layout layout)
    {
        var command = new VirtioGpuResourceCreate2d
        {
            Hdr = GpuHarness.Hdr(CMD_RESOURCE_CREATE_2D),
            ResourceId = 7,
            Format = (uint)VirtioGpuFormat.B8G8R8X8_UNORM,
            Width = 3,
            Height = 5,
        };
        Assert.Equal(RESP_OK_NODATA, _h.Submit(command, layout: layout).Type);
        Assert.Equal(1, _h.Device.Backend.ResourceCount);
        Assert.Equal(3 * 5 * 4, _h.Device.Backend.HostBytes);
    }

    [Fact]
    public void ResourceIdZeroIsInvalid() =>
        Assert.Equal(RESP_ERR_INVALID_RESOURCE_ID, _h.CreateResource(0, VirtioGpuFormat.B8G8R8X8_UNORM, 8, 8).Type);

    [Fact]
    public void DuplicateIdIsInvalid()
    {
        Assert.Equal(RESP_OK_NODATA, _h.CreateResource(2, VirtioGpuFormat.B8G8R8X8_UNORM, 8, 8).Type);
        Assert.Equal(RESP_ERR_INVALID_RESOURCE_ID, _h.CreateResource(2, VirtioGpuFormat.B8G8R8X8_UNORM, 8, 8).Type);
        Assert.Equal(1, _h.Device.Backend.ResourceCount);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(5u)]
    [InlineData(66u)]
    [InlineData(0xFFFF_FFFFu)]
    public void UnknownFormatIsAnInvalidParameter(uint format) =>
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, _h.CreateResource(2, format, 8, 8).Type);

    [Theory]
    [InlineData(0u, 8u)]
    [InlineData(8u, 0u)]
    [InlineData(0xFFFF_FFFFu, 0xFFFF_FFFFu)] // width * height * 4 overflows 64 bits
    [InlineData(0x8000_0000u, 2u)]
    public void EmptyOrOverflowingSizeIsAnInvalidParameter(uint width, uint height) =>
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, _h.CreateResource(2, VirtioGpuFormat.B8G8R8X8_UNORM, width, height).Type);

    [Fact]
    public void SizeOverTheMemoryCapIsOutOfMemory()
    {
        // 16384 x 16384 x 4 = 1 GiB > the 256 MiB default cap; nothing is allocated.
        Assert.Equal(RESP_ERR_OUT_OF_MEMORY, _h.CreateResource(2, VirtioGpuFormat.B8G8R8X8_UNORM, 16384, 16384).Type);
        Assert.Equal(0, _h.Device.Backend.HostBytes);
    }

    [Fact]
    public void TheCapCountsEveryResourceAndUnrefGivesItBack()
    {
        using var h = new GpuHarness(new GpuOptions { MaxHostMemoryBytes = 1 << 20 });
        // Each resource costs its pixels plus a per-object minimum (HostBudget.PerObjectBytes), so two of 512 KiB do not fit.
        Assert.Equal(RESP_OK_NODATA, h.CreateResource(1, VirtioGpuFormat.B8G8R8X8_UNORM, 256, 512).Type); // 512 KiB
        Assert.Equal(RESP_ERR_OUT_OF_MEMORY, h.CreateResource(2, VirtioGpuFormat.B8G8R8X8_UNORM, 256, 512).Type);
        Assert.Equal(RESP_OK_NODATA, h.CreateResource(2, VirtioGpuFormat.B8G8R8X8_UNORM, 128, 1023).Type); // 1 MiB in all
        Assert.Equal(RESP_ERR_OUT_OF_MEMORY, h.CreateResource(3, VirtioGpuFormat.B8G8R8X8_UNORM, 1, 1).Type);
        Assert.Equal(RESP_OK_NODATA, h.Unref(1).Type);
        Assert.Equal(RESP_OK_NODATA, h.CreateResource(3, VirtioGpuFormat.B8G8R8X8_UNORM, 1, 1).Type);
    }

    [Fact]
    public void UnrefOfAnUnknownIdIsInvalid()
    {
        Assert.Equal(RESP_ERR_INVALID_RESOURCE_ID, _h.Unref(9).Type);
        Assert.Equal(RESP_ERR_INVALID_RESOURCE_ID, _h.Unref(0).Type);
    }

    [Fact]
    public void UnrefFreesTheIdAndDetachesScanouts()
    {
        _h.CreateBackedResource(2, 32, 16);
        Assert.Equal(RESP_OK_NODATA, _h.SetScanout(0, 2, GpuHarness.Rect(0, 0, 32, 16)).Type);
        Assert.True(_h.Device.Scanouts[0].IsEnabled);
        Assert.Equal(RESP_OK_NODATA, _h.Unref(2).Type);
        Assert.False(_h.Device.Scanouts[0].IsEnabled);
        Assert.Null(_h.Device.Scanouts[0].Capture());
        Assert.Equal([0], _h.Sink.Disabled);
        Assert.Equal(RESP_ERR_INVALID_RESOURCE_ID, _h.Flush(2, GpuHarness.Rect(0, 0, 1, 1)).Type);
        Assert.Equal(RESP_OK_NODATA, _h.CreateResource(2, VirtioGpuFormat.B8G8R8X8_UNORM, 8, 8).Type);
    }
}
