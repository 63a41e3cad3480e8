using MiniVmm.Gpu.Protocol;
using MiniVmm.Gpu.Tests.Winsrv;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>INIT's channel_type picks the compositor socket: 1 the unnamed one, 20 the first named one, others none.</summary>
public sealed class CrossDomainChannelTypeTests : IDisposable
{
    private readonly ScriptedCompositor _unnamed = new();
    private readonly ScriptedCompositor _named = new();
    private readonly GpuHarness _h;

    public CrossDomainChannelTypeTests() =>
        _h = new GpuHarness(GpuHarness.BlobOptions() with { WaylandSockets = ScriptedCompositor.Sockets(_unnamed, _named) });

    public void Dispose()
    {
        _h.Device.Reset();
        _h.Dispose();
        _unnamed.Dispose();
        _named.Dispose();
    }

    private VirtioGpuCtrlType Init(uint ctx, uint channelType)
    {
        Assert.Equal(RESP_OK_NODATA, _h.CreateContext(ctx).Type);
        _h.CreateRing(ctx * 100, ctx);
        _h.CreateRing(ctx * 100 + 1, ctx);
        return _h.Submit3D(ctx, GpuHarness.XdInit(ctx * 100, ctx * 100 + 1, channelType)).Type;
    }

    [Fact]
    public void TheCapsetAdvertisesEveryConfiguredChannel()
    {
        var caps = _h.Submit(new VirtioGpuGetCapset { Hdr = GpuHarness.Hdr(CMD_GET_CAPSET), CapsetId = 5 }, 40);
        Assert.Equal(RESP_OK_CAPSET, caps.Type);
        Assert.Equal((1u << 1) | (1u << 20), UpstreamCrossDomainWire.ParseCapabilities(caps.Response.AsSpan(24)).SupportedChannels);
    }

    [Fact]
    public void ChannelOneReachesTheUnnamedSocketAndTwentyTheNamedOne()
    {
        Assert.Equal(RESP_OK_NODATA, Init(1, 20));
        using var second = _named.Accept();
        Assert.False(_unnamed.HasPendingConnection);
        Assert.Equal(RESP_OK_NODATA, Init(2, 1));
        using var first = _unnamed.Accept();
        Assert.False(_named.HasPendingConnection);

        Assert.Equal(RESP_OK_NODATA, _h.Submit3D(1, GpuHarness.XdSend("named"u8)).Type);
        Assert.Equal(RESP_OK_NODATA, _h.Submit3D(2, GpuHarness.XdSend("plain"u8)).Type);
        Assert.Equal("named"u8.ToArray(), ScriptedCompositor.Read(second, 5));
        Assert.Equal("plain"u8.ToArray(), ScriptedCompositor.Read(first, 5));
    }

    [Theory]
    [InlineData(2u)] // crosvm's camera channel: not MiniVmm's
    [InlineData(0x10u)] // PipeWire in libkrun and muvm: never a Wayland socket here
    [InlineData(0x11u)] // X11 in libkrun and muvm
    [InlineData(16u + 3)] // 0x13, D-Bus system in magma-gpu/rutabaga_gfx
    [InlineData(21u)] // one past the only named socket
    [InlineData(0xffffffffu)]
    public void AnUnconfiguredChannelTypeFailsInitCleanlyAndTheDeviceKeepsServing(uint channelType)
    {
        Assert.Equal(RESP_ERR_UNSPEC, Init(1, channelType));
        Assert.Contains(_h.Trace, line => line.Contains($"channel type {channelType} has no compositor socket", StringComparison.Ordinal));
        // The same state as an unreachable compositor: POLL answers a hang-up, SEND is refused.
        Assert.Equal(RESP_OK_NODATA, _h.Submit3D(1, GpuHarness.XdPoll(), fence: 4, ring: 1).Type);
        Assert.Empty(GpuHarness.ParseReceive(_h.ReadRing(101)).Data);
        Assert.Equal(RESP_ERR_UNSPEC, _h.Submit3D(1, GpuHarness.XdSend("x"u8)).Type);
        Assert.False(_unnamed.HasPendingConnection || _named.HasPendingConnection);

        Assert.Equal(RESP_OK_NODATA, Init(2, 20));
        using var peer = _named.Accept();
        Assert.True(_h.Device.Backend.GetCrossDomainContext(2)!.IsConnected);
    }

    [Fact]
    public void WithOnlyNamedSocketsChannelOneHasNone()
    {
        using var named = new ScriptedCompositor();
        using var h = new GpuHarness(GpuHarness.BlobOptions() with { WaylandSockets = ScriptedCompositor.Sockets(null, named) });
        Assert.Equal(RESP_OK_NODATA, h.CreateContext(1).Type);
        h.CreateRing(10, 1);
        h.CreateRing(11, 1);
        Assert.Equal(RESP_ERR_UNSPEC, h.Submit3D(1, GpuHarness.XdInit(10, 11)).Type);
        Assert.Contains(h.Trace, line => line.Contains("no compositor socket is configured", StringComparison.Ordinal));
        Assert.False(named.HasPendingConnection);
        h.Device.Reset();
    }
}
