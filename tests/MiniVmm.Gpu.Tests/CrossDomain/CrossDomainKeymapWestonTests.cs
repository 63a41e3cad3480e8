using System.Text;
using MiniVmm.Wayland.Protocol;
using MiniVmm.Wayland.Tests.Support;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>
/// wl_keyboard.keymap from a real seat (Weston's x11 backend under Xvfb): the compositor's fd reaches the guest as a
/// blob id, which the guest turns into a HOST3D blob, maps, and reads as the XKB text Weston sent.
/// </summary>
[Collection("Weston")]
public sealed class CrossDomainKeymapWestonTests
{
    private const uint Ctx = 1, QueryRing = 10, ChannelRing = 11, KeymapBlob = 30;
    private const int FGetSeals = 1034, FSealWrite = 8; // F_GET_SEALS, F_SEAL_WRITE (linux/fcntl.h)

    [Theory]
    [InlineData(7u, true)] // Weston's one sealed, read-only memfd
    [InlineData(5u, false)] // a writable copy made for this client
    public void TheKeymapFdBecomesABlobWithWestonsXkbText(uint seatVersion, bool writeSealed)
    {
        using var weston = WestonCompositor.Start(backend: WestonBackend.X11);
        var region = new FakeHostVisibleRegion(1 << 20);
        using var h = new GpuHarness(GpuHarness.BlobOptions() with { WaylandSockets = CompositorSockets.Only(weston.SocketPath) }, region: region);
        try
        {
            Assert.Equal(RESP_OK_NODATA, h.CreateContext(Ctx).Type);
            h.CreateRing(QueryRing, Ctx);
            h.CreateRing(ChannelRing, Ctx);
            Assert.Equal(RESP_OK_NODATA, h.Submit3D(Ctx, GpuHarness.XdInit(QueryRing, ChannelRing)).Type);

            var (format, size, blobId) = new GuestWaylandWindow(new ContextPipe(h, Ctx, ChannelRing)).ReadKeymap(seatVersion);
            Assert.InRange(size, 2u, 1u << 19);
            Assert.Equal(RESP_OK_NODATA, h.CreateHostBlob(KeymapBlob, Pages(size), Ctx, blobId: blobId).Type);
            Assert.Equal(RESP_OK_MAP_INFO, h.MapBlob(KeymapBlob, 0).Type);
            AssertXkbKeymap(format, size, GuestWaylandWindow.ReadThroughMapping(region, 0, (int)size), weston.Log);
            // Both kinds of fd were covered: a write-sealed one cannot be mapped writable (the device falls back to read-only).
            Assert.Equal(writeSealed, (Tmds.Linux.LibC.fcntl((int)region.Mappings[0].Fd.DangerousGetHandle(), FGetSeals) & FSealWrite) != 0);
        }
        finally
        {
            h.Device.Reset();
        }
    }

    /// <summary>
    /// The mapped keymap: "xkb_keymap {" text of exactly the announced <paramref name="size"/>, its last byte the NUL the
    /// protocol promises and no NUL before it.
    /// </summary>
    internal static void AssertXkbKeymap(uint format, uint size, byte[] text, string log)
    {
        Assert.Equal((uint)WlKeyboard.KeymapFormat.XkbV1, format);
        Assert.Equal((int)size, text.Length);
        Assert.True(text.AsSpan().StartsWith("xkb_keymap {"u8), "not an XKB keymap: " + Encoding.ASCII.GetString(text, 0, Math.Min(64, text.Length)) + "\n" + log);
        Assert.Equal((int)size - 1, text.AsSpan().IndexOf((byte)0));
        Assert.Contains("xkb_keycodes", Encoding.ASCII.GetString(text), StringComparison.Ordinal);
    }

    /// <summary>The blob size Linux sends for a <paramref name="size"/>-byte fd: whole pages.</summary>
    internal static ulong Pages(uint size) => (size + 4095UL) & ~4095UL;
}
