using System.Buffers.Binary;
using System.Text;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;
using MiniVmm.Wayland.Tests.Support;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>The device's cross-domain path against a real Weston: the harness plays the guest proxy end to end.</summary>
[Collection("Weston")]
public sealed class CrossDomainDeviceWestonTests
{
    [Fact]
    public void RegistryGlobalsArriveThroughAFencedPoll()
    {
        using var weston = WestonCompositor.Start();
        using var h = new GpuHarness(GpuHarness.BlobOptions() with { WaylandSockets = CompositorSockets.Only(weston.SocketPath) });
        var names = ListGlobals(h, 1, CrossDomainConstants.ChannelTypeWayland, weston);
        Assert.Contains("wl_compositor", names);
        Assert.Contains("wl_shm", names);
        Assert.Contains("xdg_wm_base", names);
        h.Device.Reset();
    }

    /// <summary>
    /// --wayland-socket A --wayland-socket B,name=second: a context INIT on channel 20 talks to the second Weston
    /// (fullscreen shell: zwp_fullscreen_shell_v1, no xdg_wm_base), one on channel 1 to the first (kiosk shell).
    /// </summary>
    [Fact]
    public void ANamedChannelReachesTheSecondCompositor()
    {
        using var kiosk = WestonCompositor.Start(shell: "kiosk-shell.so");
        using var fullscreen = WestonCompositor.Start(shell: "fullscreen-shell.so");
        Assert.True(CompositorSockets.TryParse([kiosk.SocketPath, $"{fullscreen.SocketPath},name=second"], () => null, out var sockets, out _));
        using var h = new GpuHarness(GpuHarness.BlobOptions() with { WaylandSockets = sockets });

        var second = ListGlobals(h, 1, CompositorSockets.FirstNamedChannel, fullscreen);
        Assert.Contains("zwp_fullscreen_shell_v1", second);
        Assert.DoesNotContain("xdg_wm_base", second);
        var first = ListGlobals(h, 2, CrossDomainConstants.ChannelTypeWayland, kiosk);
        Assert.Contains("xdg_wm_base", first);
        Assert.DoesNotContain("zwp_fullscreen_shell_v1", first);
        h.Device.Reset();
    }

    /// <summary>Plays a client on a new context <paramref name="ctx"/>: INIT on <paramref name="channelType"/>, get_registry and sync, fenced POLLs until the sync's done.</summary>
    private static HashSet<string> ListGlobals(GpuHarness h, uint ctx, uint channelType, WestonCompositor compositor)
    {
        uint queryRing = ctx * 10, channelRing = ctx * 10 + 1;
        Assert.Equal(RESP_OK_NODATA, h.CreateContext(ctx).Type);
        h.CreateRing(queryRing, ctx);
        h.CreateRing(channelRing, ctx);
        Assert.Equal(RESP_OK_NODATA, h.Submit3D(ctx, GpuHarness.XdInit(queryRing, channelRing, channelType)).Type);
        using var writer = new WireWriter();
        WlDisplay.GetRegistry(writer, 1, 2);
        WlDisplay.Sync(writer, 1, 3);
        Assert.Equal(RESP_OK_NODATA, h.Submit3D(ctx, GpuHarness.XdSend(writer.Written)).Type);

        var names = new HashSet<string>();
        var pending = new List<byte>();
        var done = false;
        for (ulong fence = 1; !done && fence < 50; fence++)
        {
            var poll = h.StartSubmit3D(ctx, GpuHarness.XdPoll(), fence, ring: 1);
            Assert.Equal(fence, h.WaitUsed(TimeSpan.FromSeconds(10), poll)[0].FenceId);
            var (_, data) = GpuHarness.ParseReceive(h.ReadRing(channelRing));
            Assert.True(data.Length > 0, "hang-up\n" + compositor.Log);
            pending.AddRange(data);
            var bytes = pending.ToArray();
            var offset = 0;
            while (WireMessage.TryParse(bytes.AsSpan(offset), out var message, out _))
            {
                if (message.ObjectId == 2 && message.Opcode == WlRegistry.Events.Global)
                {
                    var body = message.Body;
                    var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(body[4..]);
                    names.Add(Encoding.UTF8.GetString(body.Slice(8, length - 1)));
                }
                done |= message.ObjectId == 3;
                offset += message.Size;
            }
            pending.RemoveRange(0, offset);
        }
        Assert.True(done);
        return names;
    }

    /// <summary>
    /// Weston dies while the guest waits on a POLL: the fence completes with the empty hang-up RECEIVE, the context
    /// refuses further SENDs, the VMM goes on serving (a new context's INIT fails cleanly while nobody listens), and
    /// once a new Weston listens on the same socket a new context connects and lists its globals.
    /// </summary>
    [Fact]
    public void KillingWestonMidSessionAnswersThePollWithAHangUpAndARestartedWestonIsReachedAgain()
    {
        using var weston = WestonCompositor.Start();
        using var h = new GpuHarness(GpuHarness.BlobOptions() with { WaylandSockets = CompositorSockets.Only(weston.SocketPath) });
        try
        {
            Open(h, 1);
            var poll = h.StartSubmit3D(1, GpuHarness.XdPoll(), fence: 1, ring: 1);

            weston.Kill();

            Assert.Equal(1UL, h.WaitUsed(TimeSpan.FromSeconds(10), poll)[0].FenceId);
            var (ids, data) = GpuHarness.ParseReceive(h.ReadRing(11));
            Assert.Empty(ids);
            Assert.Empty(data); // the hang-up RECEIVE
            Assert.Equal(RESP_ERR_UNSPEC, h.Submit3D(1, GpuHarness.XdSend("x"u8)).Type);
            // The device keeps serving: a second context is created, and its INIT fails cleanly (nobody listens).
            Assert.Equal(RESP_OK_NODATA, h.CreateContext(2).Type);
            h.CreateRing(20, 2);
            h.CreateRing(21, 2);
            Assert.NotEqual(RESP_OK_NODATA, h.Submit3D(2, GpuHarness.XdInit(20, 21)).Type);

            weston.Restart();
            Open(h, 3);
            var client = new GuestWaylandWindow(new ContextPipe(h, 3, 31));
            client.ReadGlobals();
            Assert.Contains(WlCompositor.Name, client.Globals.Keys);
            Assert.Contains(WlShm.Name, client.Globals.Keys);
            Assert.False(h.Device.Backend.GetCrossDomainContext(1)!.IsConnected); // the old context stays hung up
        }
        finally
        {
            h.Device.Reset();
        }
    }

    /// <summary>Context <paramref name="ctx"/> with rings ctx*10 (query) and ctx*10+1 (channel), INIT'ed.</summary>
    private static void Open(GpuHarness h, uint ctx)
    {
        Assert.Equal(RESP_OK_NODATA, h.CreateContext(ctx).Type);
        h.CreateRing(ctx * 10, ctx);
        h.CreateRing(ctx * 10 + 1, ctx);
        Assert.Equal(RESP_OK_NODATA, h.Submit3D(ctx, GpuHarness.XdInit(ctx * 10, ctx * 10 + 1)).Type);
    }
}
