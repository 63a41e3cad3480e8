using System.Net.Sockets;
using MiniVmm.Gpu.Tests.CrossDomain;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Hostile;

/// <summary>
/// Hostile-input tests around one cross-domain context (1, query ring 100, channel ring <see cref="ChannelRing"/>)
/// connected to the stand-in compositor the test plays; untraced, since these send many commands.
/// </summary>
public abstract class CompositorContextTests : StandInCompositorTests
{
    private protected const uint ChannelRing = 101;

    private protected CompositorContextTests() : base(traced: false)
    {
    }

    /// <summary>Creates and INITs the context; returns the compositor's end of its connection.</summary>
    private protected Socket OpenContext()
    {
        Assert.Equal(RESP_OK_NODATA, H.CreateContext(1).Type);
        H.CreateRing(100, 1);
        H.CreateRing(ChannelRing, 1);
        Assert.Equal(RESP_OK_NODATA, H.Submit3D(1, GpuHarness.XdInit(100, ChannelRing)).Type);
        return Listener.Accept();
    }
}
