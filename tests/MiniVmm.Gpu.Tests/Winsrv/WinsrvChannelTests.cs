using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Winsrv;

/// <summary>CONNECT's channel field (padding in 2018) picks the compositor socket: 0 or 1 unnamed, 20..31 named.</summary>
[Collection("Winsrv")]
public sealed class WinsrvChannelTests
{
    [Fact]
    public void TheChannelFieldPicksTheSocket()
    {
        using var unnamed = new ScriptedCompositor();
        using var named = new ScriptedCompositor();
        using var harness = new WinsrvHarness(ScriptedCompositor.Sockets(unnamed, named));
        Assert.Equal(RESP_OK_NODATA, harness.Connect(1, channel: 20));
        using var toNamed = named.Accept();
        Assert.False(unnamed.HasPendingConnection);
        Assert.Equal(RESP_OK_NODATA, harness.Send(1, "named"u8));
        Assert.Equal("named"u8.ToArray(), ScriptedCompositor.Read(toNamed, 5));

        foreach (uint channel in (uint[])[0, 1])
        {
            Assert.Equal(RESP_OK_NODATA, harness.Connect(10 + channel, channel));
            using var toUnnamed = unnamed.Accept();
            Assert.False(named.HasPendingConnection);
            Assert.Equal(RESP_OK_NODATA, harness.Send(10 + channel, "plain"u8));
            Assert.Equal("plain"u8.ToArray(), ScriptedCompositor.Read(toUnnamed, 5));
        }
        Assert.Contains(harness.Trace, line => line.Contains("winsrv CONNECT fd=1 channel=20", StringComparison.Ordinal));
    }

    [Fact]
    public void AnUnknownChannelIsAnErrorAndTheDeviceKeepsServing()
    {
        using var unnamed = new ScriptedCompositor();
        using var named = new ScriptedCompositor();
        using var harness = new WinsrvHarness(ScriptedCompositor.Sockets(unnamed, named));
        foreach (uint channel in (uint[])[2, 15, 16, 0x10, 0x11, 21, 0xffffffff])
            Assert.Equal(RESP_ERR_UNSPEC, harness.Connect(1, channel));
        Assert.False(unnamed.HasPendingConnection || named.HasPendingConnection);
        Assert.Equal(0, harness.Device.Winsrv!.ConnectionCount);
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, harness.Send(1, "x"u8)); // the id was never opened
        Assert.Equal(RESP_OK_NODATA, harness.Connect(1, 20)); // and is free for a good CONNECT
        using var peer = named.Accept();

        using var onlyNamed = new WinsrvHarness(ScriptedCompositor.Sockets(null, named));
        Assert.Equal(RESP_ERR_UNSPEC, onlyNamed.Connect(1, 0));
        Assert.Equal(RESP_ERR_UNSPEC, onlyNamed.Connect(1, 1));
        Assert.False(named.HasPendingConnection);
    }
}
