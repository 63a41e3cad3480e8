using MiniVmm.Gpu.Protocol;
using MiniVmm.Gpu.Tests.CrossDomain;
using MiniVmm.Sys;
using MiniVmm.Virtio;
using MiniVmm.Wayland.Tests.Support;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Winsrv;

/// <summary>
/// wl_keyboard.keymap from a real seat (Weston's x11 backend under Xvfb) through the winsrv queues: the fd arrives
/// as an id in the RX header's resource_ids, and CREATE_BLOB(HOST3D, blob_id = that id) gives the guest its pages.
/// </summary>
[Collection("Winsrv")]
public sealed class WinsrvKeymapWestonTests
{
    private const uint Id = 7, KeymapBlob = 30;

    [Theory]
    [InlineData(7u)]
    [InlineData(5u)]
    public void TheKeymapArrivesInResourceIdsAndBecomesABlobWithWestonsXkbText(uint seatVersion)
    {
        using var weston = WestonCompositor.Start(backend: WestonBackend.X11);
        using var loop = new EventLoop("winsrv-keymap");
        loop.Start();
        var region = new FakeHostVisibleRegion(1 << 20);
        var options = new GpuOptions { Edid = false, Winsrv = true, Blob = true, Contexts = true, HostMemoryBytes = 1 << 20 };
        using var h = new WinsrvHarness(weston.SocketPath, options, loop: loop, region: region);
        Assert.Equal(RESP_OK_NODATA, h.SubmitControl(new VirtioGpuCtxCreate { Hdr = { Type = (uint)CMD_CTX_CREATE, CtxId = 1 } }));
        Assert.Equal(RESP_OK_NODATA, h.Connect(Id));
        h.PostRx(16);

        var (format, size, blobId) = new GuestWaylandWindow(new WinsrvPipe(h, Id)).ReadKeymap(seatVersion);
        Assert.InRange(size, 2u, 1u << 19);
        Assert.Equal(RESP_OK_NODATA, h.SubmitControl(new VirtioGpuResourceCreateBlob
        {
            Hdr = { Type = (uint)CMD_RESOURCE_CREATE_BLOB, CtxId = 1 },
            ResourceId = KeymapBlob,
            BlobMem = VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_HOST3D,
            BlobFlags = GpuHarness.Mappable | GpuHarness.Shareable,
            BlobId = blobId,
            Size = CrossDomainKeymapWestonTests.Pages(size),
        }));
        Assert.Equal(RESP_OK_MAP_INFO, h.SubmitControl(new VirtioGpuResourceMapBlob { Hdr = { Type = (uint)CMD_RESOURCE_MAP_BLOB }, ResourceId = KeymapBlob }, responseSize: 32));
        CrossDomainKeymapWestonTests.AssertXkbKeymap(format, size, GuestWaylandWindow.ReadThroughMapping(region, 0, (int)size), weston.Log);
        Assert.Null(loop.Failure);
    }
}
