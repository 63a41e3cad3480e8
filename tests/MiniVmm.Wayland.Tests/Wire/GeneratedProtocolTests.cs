using MiniVmm.Wayland.Protocol;

namespace MiniVmm.Wayland.Tests.Wire;

/// <summary>What the generator produced from Debian's XML: names, versions, opcodes, enums, signatures, decoders.</summary>
public sealed class GeneratedProtocolTests
{
    [Fact]
    public void InterfacesCarryNameAndVersion()
    {
        Assert.Equal(("wl_surface", "xdg_wm_base"), (WlSurface.Name, XdgWmBase.Name));
        Assert.True(WlCompositor.Version >= 4);
        Assert.True(XdgWmBase.Version >= 1);
        Assert.Same(WaylandInterfaces.WlSurface, WlSurface.Info);
        Assert.Same(WlShm.Info, WaylandInterfaces.Find("wl_shm"));
        Assert.Null(WaylandInterfaces.Find("wl_nonexistent"));
        Assert.Contains(WaylandInterfaces.All, i => i.Name == "xdg_toplevel");
    }

    [Fact]
    public void OpcodesFollowXmlOrder()
    {
        Assert.Equal(0, WlDisplay.Requests.Sync);
        Assert.Equal(1, WlDisplay.Requests.GetRegistry);
        Assert.Equal(1, WlSurface.Requests.Attach);
        Assert.Equal(6, WlSurface.Requests.Commit);
        Assert.Equal(0, WlDisplay.Events.Error);
        Assert.Equal(1, WlDisplay.Events.DeleteId);
        Assert.Equal(4, XdgSurface.Requests.AckConfigure);
    }

    [Fact]
    public void EnumsKeepTheirValues()
    {
        Assert.Equal(0u, (uint)WlShm.Format.Argb8888);
        Assert.Equal(1u, (uint)WlShm.Format.Xrgb8888);
        Assert.Equal(0x34324258u, (uint)WlShm.Format.Xbgr8888); // fourcc "XB24"
        Assert.Equal(2u, (uint)XdgToplevel.State.Fullscreen);
        Assert.Equal(1u, (uint)WlOutput.Transform._90);
        Assert.Equal(4u, (uint)XdgPositioner.ConstraintAdjustment.FlipX);
    }

    [Theory]
    [InlineData("wl_surface", MessageDirection.Request, 1, "wl_surface.attach")]
    [InlineData("wl_surface", MessageDirection.Event, 0, "wl_surface.enter")]
    [InlineData("xdg_wm_base", MessageDirection.Event, 0, "xdg_wm_base.ping")]
    [InlineData("wl_display", MessageDirection.Event, 0, "wl_display.error")]
    [InlineData("wl_surface", MessageDirection.Request, 99, "wl_surface.#99")]
    [InlineData("zz_unknown", MessageDirection.Request, 2, "zz_unknown.#2")]
    public void TraceNamesMessages(string iface, MessageDirection direction, ushort opcode, string expected) =>
        Assert.Equal(expected, WireTrace.Describe(iface, direction, opcode));

    [Fact]
    public void TraceFormatsArguments()
    {
        var body = Hex.Parse("07000000 01000000 ffffffff");
        Assert.Equal(
            "wl_surface@3.attach(buffer: wl_buffer@7, x: 1, y: -1)",
            WireTrace.Format(WlSurface.Info, 3, MessageDirection.Request, WlSurface.Requests.Attach, body));
        Assert.Equal(
            "wl_surface@3.attach(buffer: wl_buffer@7, x: 1, y: <Truncated>)",
            WireTrace.Format(WlSurface.Info, 3, MessageDirection.Request, WlSurface.Requests.Attach, body.AsSpan(0, 8)));
    }

    [Fact]
    public void SignaturesDescribeArguments()
    {
        var createPool = WlShm.Info.Requests[WlShm.Requests.CreatePool];
        Assert.Equal("create_pool", createPool.Name);
        Assert.Equal([WireArgType.NewId, WireArgType.Fd, WireArgType.Int], createPool.Args.Select(a => a.Type));
        Assert.Equal("wl_shm_pool", createPool.Args[0].Interface);
        Assert.Equal(1, createPool.FdCount);
        Assert.True(WlCallback.Info.Events[0].IsDestructor);
        Assert.True(WlRegistry.Info.Requests[0].Args[1].IsGenericNewId);
        Assert.True(WlSurface.Info.Requests[WlSurface.Requests.Attach].Args[0].Nullable);
        Assert.Equal(4u, WlSurface.Info.Requests[WlSurface.Requests.DamageBuffer].Since);
    }

    [Fact]
    public void EventDecoderCallsTypedHandler()
    {
        var recorder = new Recorder();
        var reader = new WireReader(Hex.Parse("03000000 0e000000 776c5f63 6f6d706f 7369746f 72000000 04000000"), null);
        Assert.Equal(WireError.None, WlRegistry.DispatchEvent(recorder, 2, WlRegistry.Events.Global, ref reader));
        Assert.Equal("global 3 wl_compositor 4", recorder.Last);

        // xdg_toplevel.configure(640, 480, [fullscreen, activated])
        reader = new WireReader(Hex.Parse("80020000 e0010000 08000000 02000000 04000000"), null);
        Assert.Equal(WireError.None, XdgToplevel.DispatchEvent(recorder, 5, XdgToplevel.Events.Configure, ref reader));
        Assert.Equal("configure 640x480 states 0200000004000000", recorder.Last);

        // wl_output.geometry has int arguments typed by enums from its own interface.
        reader = new WireReader(Hex.Parse("00000000 00000000 40010000 b4000000 00000000 02000000 41000000 02000000 42000000 01000000"), null);
        Assert.Equal(WireError.None, WlOutput.DispatchEvent(recorder, 6, WlOutput.Events.Geometry, ref reader));
        Assert.Equal("geometry A B _90", recorder.Last);
    }

    private sealed class Recorder : WlRegistry.IEventHandler, XdgToplevel.IEventHandler, WlOutput.IEventHandler
    {
        public string Last { get; private set; } = "";

        public void Global(uint self, uint name, string @interface, uint version) => Last = $"global {name} {@interface} {version}";

        public void Configure(uint self, int width, int height, ReadOnlySpan<byte> states) =>
            Last = $"configure {width}x{height} states {Convert.ToHexString(states)}";

        public void Geometry(uint self, int x, int y, int physicalWidth, int physicalHeight, WlOutput.Subpixel subpixel,
            string make, string model, WlOutput.Transform transform) => Last = $"geometry {make} {model} {transform}";
    }
}
