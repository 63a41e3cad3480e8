namespace MiniVmm.Gpu.Tests;

/// <summary>--wayland-socket PATH[,name=NAME], repeatable: channels, the capset mask, the guest's kernel argument, and refusals.</summary>
public sealed class CompositorSocketsTests
{
    private static CompositorSockets Parse(string? defaultPath, params string[] values)
    {
        Assert.True(CompositorSockets.TryParse(values, () => defaultPath, out var sockets, out string? error), error);
        return sockets;
    }

    private static string Refused(params string[] values)
    {
        Assert.False(CompositorSockets.TryParse(values, () => "/run/user/1/wayland-0", out var sockets, out string? error));
        Assert.Same(CompositorSockets.None, sockets);
        return error!;
    }

    [Fact]
    public void NamedSocketsGetChannelsFromSixteenInCommandLineOrder()
    {
        var sockets = Parse("/env/wayland-0", "/a/host.sock,name=host", "/b/kiosk.sock,name=kiosk.2");
        Assert.Equal("/env/wayland-0", sockets.DefaultPath); // no unnamed value: the environment's default
        Assert.Equal([("host", "/a/host.sock", 20u), ("kiosk.2", "/b/kiosk.sock", 21u)], sockets.Named.Select(s => (s.Name, s.Path, s.Channel)));
        Assert.Equal("/env/wayland-0", sockets.PathFor(1));
        Assert.Equal("/a/host.sock", sockets.PathFor(20));
        Assert.Equal("/b/kiosk.sock", sockets.PathFor(21));
        Assert.Null(sockets.PathFor(0));
        Assert.Null(sockets.PathFor(2));
        // Upstream's meanings stay unanswered here: 0x10 PipeWire, 0x11 X11 (libkrun, muvm), 0x12/0x13 D-Bus.
        foreach (uint upstream in new uint[] { 0x10, 0x11, 0x12, 0x13 })
            Assert.Null(sockets.PathFor(upstream));
        Assert.Null(sockets.PathFor(22));
        Assert.Equal((1u << 1) | (1u << 20) | (1u << 21), sockets.SupportedChannels);
        Assert.Equal("minivmm.wayland_channels=host:20,kiosk.2:21", sockets.KernelArgument);
        Assert.Equal(
            ["wayland socket (default) -> /env/wayland-0 (cross-domain channel 1)", "wayland socket host -> /a/host.sock (cross-domain channel 20)",
             "wayland socket kiosk.2 -> /b/kiosk.sock (cross-domain channel 21)"],
            sockets.Describe());
    }

    [Fact]
    public void AnUnnamedValueReplacesTheDefaultWhereverItStands()
    {
        var sockets = Parse("/env/wayland-0", "/a,name=a", "/mine");
        Assert.Equal("/mine", sockets.DefaultPath);
        Assert.Equal(20u, Assert.Single(sockets.Named).Channel);
    }

    [Fact]
    public void WithoutAnyDefaultOnlyNamedChannelsAreAdvertised()
    {
        var sockets = Parse(null, "/a,name=a");
        Assert.Null(sockets.DefaultPath);
        Assert.Null(sockets.PathFor(1));
        Assert.Equal(1u << 20, sockets.SupportedChannels);
        Assert.Equal(0u, CompositorSockets.None.SupportedChannels);
        Assert.Null(CompositorSockets.None.KernelArgument);
        Assert.Empty(CompositorSockets.None.Describe());
        Assert.Null(Parse("/env", "/only").KernelArgument); // no named sockets: nothing for the guest to learn
        Assert.Same(CompositorSockets.None, CompositorSockets.Only(null));
    }

    [Fact]
    public void TwelveNamedSocketsFillBits20To31AndAThirteenthIsRefused()
    {
        var names = Enumerable.Range(0, 12).Select(i => $"/s{i},name=n{i}").ToArray();
        var sockets = Parse(null, names);
        Assert.Equal(31u, sockets.Named[^1].Channel);
        Assert.Equal(0xfff00000u, sockets.SupportedChannels);
        Assert.Contains("at most 12 named sockets", Refused([.. names, "/s12,name=n12"]));
    }

    [Theory]
    [InlineData("name '' must be", "/a,name=")]
    [InlineData("name 'has space' must be", "/a,name=has space")]
    [InlineData("name 'slash/y' must be", "/a,name=slash/y")]
    [InlineData("name 'abcdefghijklmnopqrstuvwxyz789012' must be", "/a,name=abcdefghijklmnopqrstuvwxyz789012")] // 32 characters
    [InlineData("'colour=red' is not name=NAME", "/a,colour=red")]
    [InlineData("name= is given twice", "/a,name=x,name=y")]
    [InlineData("the path is empty", ",name=x")]
    [InlineData("the path is empty", "")]
    [InlineData("only one socket may be unnamed", "/a", "/b")]
    [InlineData("'/b,name=x': name 'x' is given twice", "/a,name=x", "/b,name=x")]
    public void BadValuesAreRefusedWithTheReason(string expected, params string[] values) =>
        Assert.Contains(expected, Refused(values));

    [Fact]
    public void ThirtyOneCharacterNamesOfEveryAllowedKindAreFine() =>
        Assert.Equal("Az09_.-abcdefghijklmnopqrstuvwx", Assert.Single(Parse(null, "/a,name=Az09_.-abcdefghijklmnopqrstuvwx").Named).Name);
}
