using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Wayland.Tests.Support;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>
/// The window test through the cross-domain front door: the harness is the guest proxy (INIT, SEND, POLL +
/// RECEIVE), the pool's fd is a HOST3D blob sized by GET_IMAGE_REQUIREMENTS, and the pixels are written through
/// the blob's mapping; Weston's screenshot must show them. Also checks a few --trace xdomain lines.
/// </summary>
[Collection("Weston")]
public sealed class CrossDomainWindowTests
{
    private const uint Ctx = 1, QueryRing = 10, ChannelRing = 11, Blob = 20;

    [Fact]
    public void AToplevelDrawnIntoAHostBlobAppearsInWestonsScreenshot()
    {
        using var weston = WestonCompositor.Start(640, 480);
        var region = new FakeHostVisibleRegion(1 << 20);
        var trace = new ConcurrentQueue<string>();
        var options = GpuHarness.BlobOptions() with { WaylandSockets = CompositorSockets.Only(weston.SocketPath), CrossDomainTrace = trace.Enqueue };
        using var h = new GpuHarness(options, region: region);
        try
        {
            Assert.Equal(RESP_OK_NODATA, h.CreateContext(Ctx).Type);
            h.CreateRing(QueryRing, Ctx);
            h.CreateRing(ChannelRing, Ctx);
            Assert.Equal(RESP_OK_NODATA, h.Submit3D(Ctx, GpuHarness.XdInit(QueryRing, ChannelRing)).Type);
            const uint Xrgb8888 = 0x34325258; // DRM XR24
            Assert.Equal(RESP_OK_NODATA, h.Submit3D(Ctx, GpuHarness.XdImageRequirements(GuestWaylandWindow.Width, GuestWaylandWindow.Height, Xrgb8888)).Type);
            var requirements = UpstreamCrossDomainWire.ParseImageRequirements(h.ReadRing(QueryRing));
            Assert.Equal(RESP_OK_NODATA, h.CreateHostBlob(Blob, requirements.Size, Ctx, blobId: requirements.BlobId).Type);
            Assert.Equal(RESP_OK_MAP_INFO, h.MapBlob(Blob, 0).Type);

            var window = new GuestWaylandWindow(new ContextPipe(h, Ctx, ChannelRing));
            window.CreateToplevel();
            var stride = (int)requirements.Strides[0];
            GuestWaylandWindow.WriteThroughMapping(region, GuestWaylandWindow.Pattern(stride));
            window.Show(Blob, (int)requirements.Size, stride);
            GuestWaylandWindow.AssertOnScreen(weston, () => string.Join('\n', trace));

            Assert.Contains($"xdomain ctx 1 INIT query_ring={QueryRing} channel_ring={ChannelRing} channel_type=1", trace);
            Assert.Contains("xdomain ctx 1 POLL", trace);
            Assert.Contains("xdomain ctx 1 SEND wl_compositor@4.create_surface(id: new wl_surface@7)", trace);
            Assert.Contains(trace, l => l.StartsWith("xdomain ctx 1 SEND ", StringComparison.Ordinal) && l.EndsWith($"ids=[{Blob}:VirtgpuBlob]", StringComparison.Ordinal));
            Assert.Contains(trace, l => l.StartsWith("xdomain ctx 1 SEND wl_shm@5.create_pool(id: new wl_shm_pool@10, fd: fd, size: ", StringComparison.Ordinal));
            Assert.Contains(trace, l => l.StartsWith("xdomain ctx 1 RECEIVE wl_registry@2.global(name: ", StringComparison.Ordinal));
            Assert.Contains(trace, l => l.StartsWith("xdomain ctx 1 RECEIVE xdg_surface@8.configure(serial: ", StringComparison.Ordinal));
        }
        finally
        {
            h.Device.Reset();
        }
    }
}
