using MiniVmm.Wayland.Tests.Support;

namespace MiniVmm.GuestProxy.Tests;

/// <summary>
/// An unmodified Debian client (wayland-info, package wayland-utils) through proxy → in-process device model →
/// Weston must see exactly the globals it sees when connected to Weston directly.
/// </summary>
[Collection("Weston")]
public sealed class WaylandInfoTests
{

    /// <param name="named">The proxy INITs on channel 20, Weston being a named socket (--channel 20), not on channel 1.</param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WaylandInfoThroughTheProxyListsTheSameGlobalsAsNatively(bool named)
    {
        Assert.True(File.Exists(WaylandInfoClient.Program), "wayland-info is missing: apt-get install -y wayland-utils (tools/deps.sh should install it)");
        using var chain = new ProxyFixture(named: named);
        var nativeOutput = Run(chain.Weston.SocketPath, chain);
        var native = Globals(nativeOutput);
        // A sanity check that the parsing found something, so that two empty lists cannot pass.
        Assert.True(native.Any(g => g.Name == "wl_compositor"), "no wl_compositor in wayland-info's output:\n" + nativeOutput);
        var proxiedOutput = Run(chain.SocketPath, chain);
        Assert.True(native.SequenceEqual(Globals(proxiedOutput)), $"native:\n{nativeOutput}\nthrough the proxy:\n{proxiedOutput}\n{chain.Log}");
    }

    /// <summary>
    /// The same through the guest's DRM transport, its ioctls answered by a model of Linux's virtio_gpu driver over
    /// the same device model: the transport's own flow (CONTEXT_INIT, ring blobs mapped through the DRM file,
    /// EXECBUFFERs, fence events read from the file) must carry a real client end to end.
    /// </summary>
    [Fact]
    public void WaylandInfoThroughTheProxyOverTheDrmTransportListsTheSameGlobalsAsNatively()
    {
        Assert.True(File.Exists(WaylandInfoClient.Program), "wayland-info is missing: apt-get install -y wayland-utils (tools/deps.sh should install it)");
        using var chain = new ProxyFixture(overDrm: true);
        var nativeOutput = Run(chain.Weston.SocketPath, chain);
        var native = Globals(nativeOutput);
        Assert.True(native.Any(g => g.Name == "wl_compositor"), "no wl_compositor in wayland-info's output:\n" + nativeOutput);
        var proxiedOutput = Run(chain.SocketPath, chain);
        Assert.True(native.SequenceEqual(Globals(proxiedOutput)), $"native:\n{nativeOutput}\nthrough the proxy:\n{proxiedOutput}\n{chain.Log}");
        var file = Assert.Single(chain.DrmFiles);
        Assert.Empty(file.DeviceErrors);
    }

    /// <summary>
    /// A seated Weston: wayland-info binds wl_keyboard (so Weston sends it the keymap fd) and prints the seat's name,
    /// capabilities and repeat info; through the proxy it must print the same as natively.
    /// </summary>
    [Fact]
    public void WaylandInfoThroughTheProxySeesTheSameSeatAsNatively()
    {
        Assert.True(File.Exists(WaylandInfoClient.Program), "wayland-info is missing: apt-get install -y wayland-utils (tools/deps.sh should install it)");
        using var chain = new ProxyFixture(backend: WestonBackend.X11);
        var nativeOutput = Run(chain.Weston.SocketPath, chain);
        var seat = SeatLines(nativeOutput);
        Assert.Contains("capabilities: pointer keyboard", seat);
        Assert.Contains(seat, l => l.StartsWith("keyboard repeat rate:", StringComparison.Ordinal));
        var proxiedOutput = Run(chain.SocketPath, chain);
        Assert.True(seat.SequenceEqual(SeatLines(proxiedOutput)), $"native:\n{nativeOutput}\nthrough the proxy:\n{proxiedOutput}\n{chain.Log}");
        Assert.True(Globals(nativeOutput).SequenceEqual(Globals(proxiedOutput)), $"native:\n{nativeOutput}\nthrough the proxy:\n{proxiedOutput}\n{chain.Log}");
    }

    /// <summary>The wl_seat global's line and the detail lines under it, trimmed.</summary>
    private static List<string> SeatLines(string output) =>
        [.. output.Split('\n').Select(l => l.Trim()).SkipWhile(l => !l.StartsWith("interface: 'wl_seat'", StringComparison.Ordinal))
            .TakeWhile((l, i) => i == 0 || !l.StartsWith("interface:", StringComparison.Ordinal)).Where(l => l.Length > 0)];

    /// <summary>Runs wayland-info against <paramref name="display"/> (an absolute socket path), bounded to 15 s.</summary>
    private static string Run(string display, ProxyFixture chain)
    {
        // PROXY_TEST_WAYLAND_DEBUG=1: the client's protocol trace on stderr, shown if it fails.
        var result = WaylandInfoClient.Run(chain.Weston.RuntimeDirectory, display, TimeSpan.FromSeconds(15),
            Environment.GetEnvironmentVariable("PROXY_TEST_WAYLAND_DEBUG") ?? "0");
        Assert.True(result.Finished, $"wayland-info on {display} did not finish in 15 s (WAYLAND_DEBUG trace below)\n{result.Errors}\n{chain.Log}");
        Assert.True(result.ExitCode == 0, $"wayland-info on {display} exited {result.ExitCode}: {result.Errors}\n{chain.Log}");
        return result.Output;
    }

    private static List<(string Name, int Version)> Globals(string output) => WaylandInfoClient.Globals(output);
}
