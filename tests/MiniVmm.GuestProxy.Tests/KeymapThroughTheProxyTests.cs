using MiniVmm.Wayland.Tests.Support;

namespace MiniVmm.GuestProxy.Tests;

/// <summary>
/// A seated Weston (x11 backend under Xvfb): the keymap fd a client gets through proxy → in-process device model →
/// Weston holds exactly the bytes a native client of the same Weston gets.
/// </summary>
[Collection("Weston")]
public sealed class KeymapThroughTheProxyTests
{
    [Theory]
    [InlineData(7u)] // Weston sends its sealed memfd
    [InlineData(5u)] // Weston sends a writable copy
    public void TheKeymapThroughTheProxyMatchesTheNativeOne(uint seatVersion)
    {
        using var chain = new ProxyFixture(backend: WestonBackend.X11);
        var native = RawKeymapClient.Fetch(chain.Weston.SocketPath, seatVersion, () => chain.Log);
        Assert.True(native.Contents.AsSpan().StartsWith("xkb_keymap {"u8), "the native keymap is not XKB text\n" + chain.Log);
        Assert.Equal(0, native.Contents[^1]);

        var proxied = RawKeymapClient.Fetch(chain.SocketPath, seatVersion, () => chain.Log);
        Assert.Equal(native.Format, proxied.Format);
        Assert.Equal(native.Size, proxied.Size);
        Assert.True(native.Contents.AsSpan().SequenceEqual(proxied.Contents), "the keymap differs through the proxy\n" + chain.Log);
        Assert.DoesNotContain("closing it", chain.ProxyLog, StringComparison.Ordinal);
    }
}
