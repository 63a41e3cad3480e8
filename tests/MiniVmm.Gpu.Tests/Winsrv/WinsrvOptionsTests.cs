using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Gpu.Protocol;

namespace MiniVmm.Gpu.Tests.Winsrv;

/// <summary>winsrv=on|off in the --gpu text, and the feature-bit collision with EDID (docs/winsrv.md).</summary>
public sealed class WinsrvOptionsTests
{
    [Fact]
    public void OffByDefaultAndParsed()
    {
        Assert.False(GpuOptions.Parse("").Winsrv);
        Assert.True(GpuOptions.Parse("winsrv=on,edid=off").Winsrv);
        Assert.False(GpuOptions.Parse("winsrv=off").Winsrv);
    }

    [Fact]
    public void WinsrvWithEdidIsRefused()
    {
        Assert.False(GpuOptions.TryParse("winsrv=on", out _, out string? error));
        Assert.Equal("winsrv=on needs edid=off: the winsrv feature bit (1) is VIRTIO_GPU_F_EDID (docs/winsrv.md)", error);
        Assert.False(GpuOptions.TryParse("winsrv=maybe,edid=off", out _, out error));
        Assert.Equal("gpu option winsrv='maybe' must be on or off", error);
    }

    [Fact]
    public void AMovedBitMayLiveBesideEdid()
    {
        var options = new GpuOptions { Winsrv = true, WinsrvNumbers = WinsrvNumbers.Reconstructed with { FeatureBit = 6 } };
        Assert.Null(options.Check());
        Assert.Contains("blob or contexts", (options with { Blob = true, WinsrvNumbers = WinsrvNumbers.Reconstructed with { FeatureBit = 3 } }).Check());
        Assert.Contains("not a device feature bit", (options with { WinsrvNumbers = WinsrvNumbers.Reconstructed with { FeatureBit = 32 } }).Check());
        Assert.Contains("must be 2 and 3", (options with { WinsrvNumbers = WinsrvNumbers.Reconstructed with { FeatureBit = 6, TxQueueIndex = 2 } }).Check());
        Assert.Contains("MaxAllocs", (options with { WinsrvNumbers = WinsrvNumbers.Reconstructed with { FeatureBit = 6, MaxAllocs = 29 } }).Check());
    }

    [Fact]
    public void DeviceOffersTheBitAndFourQueuesOnlyWithWinsrv()
    {
        var on = new VirtioGpuDevice(new GpuOptions { Winsrv = true, Edid = false });
        Assert.Equal(1UL << 1, on.DeviceFeatures);
        Assert.Equal([256, 16, 256, 256], on.QueueMaxSizes);
        Assert.NotNull(on.Winsrv);
        var off = new VirtioGpuDevice(new GpuOptions { Edid = false });
        Assert.Equal(0UL, off.DeviceFeatures);
        Assert.Equal([256, 16], off.QueueMaxSizes);
        Assert.Null(off.Winsrv);
    }

    [Fact]
    public void ConnectIsAnUnknownCommandWithoutWinsrv()
    {
        using var harness = new GpuHarness(new GpuOptions { Edid = false });
        var connect = new WinsrvConnect { Hdr = { Type = WinsrvNumbers.Reconstructed.CmdConnect }, Fd = 1 };
        Assert.Equal(VirtioGpuCtrlType.RESP_ERR_UNSPEC, harness.Submit(connect).Type);
    }
}
