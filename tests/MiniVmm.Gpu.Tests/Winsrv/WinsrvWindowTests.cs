using System.Collections.Concurrent;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Gpu.Tests.CrossDomain;
using MiniVmm.Sys;
using MiniVmm.Virtio;
using MiniVmm.Wayland.Tests.Support;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Winsrv;

/// <summary>
/// The window test through the winsrv front door: CONNECT, TX with the blob in resource_ids, RX from posted
/// buffers; the pixels are written through the HOST3D blob's mapping and must show in Weston's screenshot. Also
/// checks a few --trace winsrv lines.
/// </summary>
[Collection("Winsrv")]
public sealed class WinsrvWindowTests
{
    private const uint Id = 7, Blob = 20;

    [Fact]
    public void AToplevelDrawnIntoAHostBlobAppearsInWestonsScreenshot()
    {
        using var weston = WestonCompositor.Start(640, 480);
        using var loop = new EventLoop("winsrv-window");
        loop.Start();
        var region = new FakeHostVisibleRegion(1 << 20);
        var trace = new ConcurrentQueue<string>();
        var options = new GpuOptions { Edid = false, Winsrv = true, Blob = true, Contexts = true, HostMemoryBytes = 1 << 20, WinsrvTrace = trace.Enqueue };
        using var h = new WinsrvHarness(weston.SocketPath, options, loop: loop, region: region);
        Assert.Equal(RESP_OK_NODATA, h.SubmitControl(new VirtioGpuCtxCreate { Hdr = { Type = (uint)CMD_CTX_CREATE, CtxId = 1 } }));
        const int Stride = GuestWaylandWindow.Width * 4, Size = (Stride * GuestWaylandWindow.Height + 4095) & ~4095;
        Assert.Equal(RESP_OK_NODATA, h.SubmitControl(new VirtioGpuResourceCreateBlob
        {
            Hdr = { Type = (uint)CMD_RESOURCE_CREATE_BLOB, CtxId = 1 },
            ResourceId = Blob,
            BlobMem = VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_HOST3D,
            BlobFlags = GpuHarness.Mappable | GpuHarness.Shareable,
            BlobId = 1,
            Size = Size,
        }));
        var map = new VirtioGpuResourceMapBlob { Hdr = { Type = (uint)CMD_RESOURCE_MAP_BLOB }, ResourceId = Blob };
        Assert.Equal(RESP_OK_MAP_INFO, h.SubmitControl(map, responseSize: 32));
        Assert.Equal(RESP_OK_NODATA, h.Connect(Id));
        h.PostRx(16);

        var window = new GuestWaylandWindow(new WinsrvPipe(h, Id));
        window.CreateToplevel();
        GuestWaylandWindow.WriteThroughMapping(region, GuestWaylandWindow.Pattern(Stride));
        window.Show(Blob, Size, Stride);
        GuestWaylandWindow.AssertOnScreen(weston, () => string.Join('\n', trace));

        Assert.Contains($"winsrv CONNECT fd={Id} channel=0 -> OK_NODATA", trace);
        Assert.Contains($"winsrv fd {Id} TX wl_compositor@4.create_surface(id: new wl_surface@7)", trace);
        Assert.Contains(trace, l => l.StartsWith($"winsrv TX fd={Id} len=", StringComparison.Ordinal) && l.Contains($"ids=[{Blob}]", StringComparison.Ordinal));
        Assert.Contains(trace, l => l.StartsWith($"winsrv RX fd={Id} len=", StringComparison.Ordinal));
        Assert.Contains(trace, l => l.StartsWith($"winsrv fd {Id} RX xdg_surface@8.configure(serial: ", StringComparison.Ordinal));
        Assert.Null(loop.Failure);
    }
}
