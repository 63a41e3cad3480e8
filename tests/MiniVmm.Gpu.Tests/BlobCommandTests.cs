using MiniVmm.Gpu.Protocol;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests;

public sealed class BlobCommandTests : IDisposable
{
    private readonly FakeHostVisibleRegion _region = new(1 << 20);
    private readonly GpuHarness _h;

    public BlobCommandTests()
    {
        _h = new GpuHarness(GpuHarness.BlobOptions(), region: _region);
        Assert.Equal(RESP_OK_NODATA, _h.CreateContext(1, contextInit: 0).Type);
    }

    public void Dispose() => _h.Dispose();

    [Fact]
    public void HostBlobCountsAgainstHostMemory()
    {
        Assert.Equal(RESP_OK_NODATA, _h.CreateHostBlob(2, 3 * 4096).Type);
        Assert.Equal(3 * 4096L, _h.Device.Backend.HostBytes);
        Assert.Equal(RESP_ERR_INVALID_RESOURCE_ID, _h.CreateHostBlob(2, 4096).Type); // id in use
        Assert.Equal(RESP_OK_NODATA, _h.Unref(2).Type);
        Assert.Equal(0L, _h.Device.Backend.HostBytes);
        Assert.Equal(RESP_ERR_INVALID_RESOURCE_ID, _h.Unref(2).Type);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(100UL)]
    [InlineData(4097UL)]
    [InlineData(ulong.MaxValue & ~4095UL)] // overflow-sized
    [InlineData((256UL << 20) + 4096)] // above the host memory cap
    public void BadSizesAreInvalidParameters(ulong size) =>
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, _h.CreateHostBlob(2, size).Type);

    [Fact]
    public void HostMemoryCapIsOutOfMemory()
    {
        Assert.Equal(RESP_OK_NODATA, _h.CreateHostBlob(2, 200 << 20).Type);
        Assert.Equal(RESP_ERR_OUT_OF_MEMORY, _h.CreateHostBlob(3, 100 << 20).Type);
    }

    [Fact]
    public void FlagsAndMemTypesAreChecked()
    {
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, _h.CreateHostBlob(2, 4096, flags: 0x10).Type); // unknown bit
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, _h.CreateHostBlob(2, 4096, flags: VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_CROSS_DEVICE).Type);
        Assert.Equal(RESP_ERR_INVALID_CONTEXT_ID, _h.CreateHostBlob(2, 4096, ctxId: 0).Type);
        var cmd = new VirtioGpuResourceCreateBlob { Hdr = GpuHarness.Hdr(CMD_RESOURCE_CREATE_BLOB, ctxId: 1), ResourceId = 2, Size = 4096 };
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, _h.Submit(cmd).Type); // blob_mem 0
        cmd.BlobMem = VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST;
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, _h.Submit(cmd).Type);
        Assert.Equal(0, _h.Device.Backend.ResourceCount);
    }

    [Fact]
    public void GuestBlobEntriesAreValidated()
    {
        var pages = _h.AllocatePages(8192);
        Assert.Equal(RESP_OK_NODATA, _h.CreateGuestBlob(2, 8192, [(pages.Value, 4096), (pages.Value + 4096, 4096)]).Type);
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, _h.CreateGuestBlob(3, 8192, [(pages.Value, 4096)]).Type); // too short
        Assert.Equal(RESP_ERR_UNSPEC, _h.CreateGuestBlob(4, 4096, [(GpuHarness.MemorySize, 4096)]).Type); // outside RAM
        var lying = new VirtioGpuResourceCreateBlob
        {
            Hdr = GpuHarness.Hdr(CMD_RESOURCE_CREATE_BLOB), ResourceId = 5, BlobMem = VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_GUEST,
            NrEntries = 1000, Size = 4096,
        };
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, _h.Submit(lying, extra: GpuHarness.MemEntries([(pages.Value, 4096)])).Type);
        Assert.Equal(1, _h.Device.Backend.ResourceCount);
        Assert.Equal(0L, _h.Device.Backend.HostBytes); // guest blobs hold no host memory
    }

    [Fact]
    public void UuidIsStableAndVersion4()
    {
        _h.CreateBackedResource(2, 4, 4);
        Assert.Equal(RESP_OK_NODATA, _h.CreateHostBlob(3, 4096).Type);
        var a = _h.AssignUuid(2);
        Assert.Equal(RESP_OK_RESOURCE_UUID, a.Type);
        Assert.Equal(40u, a.UsedLength);
        byte[] uuid = a.Response[24..40];
        Assert.Equal(uuid, _h.AssignUuid(2).Response[24..40]);
        Assert.NotEqual(uuid, _h.AssignUuid(3).Response[24..40]);
        Assert.Equal(0x40, uuid[6] & 0xf0);
        Assert.Equal(0x80, uuid[8] & 0xc0);
        Assert.Equal(RESP_ERR_INVALID_RESOURCE_ID, _h.AssignUuid(9).Type);
    }

    [Fact]
    public void ScanoutBlobShowsTheGuestPixelsOnFlush()
    {
        // An 8x4 XRGB framebuffer with a 64-byte stride at offset 256 of a one-page guest blob.
        var pages = _h.AllocatePages(4096);
        Assert.Equal(RESP_OK_NODATA, _h.CreateGuestBlob(2, 4096, [(pages.Value, 4096)]).Type);
        Assert.Equal(RESP_OK_NODATA, _h.SetScanoutBlob(0, 2, GpuHarness.Rect(0, 0, 8, 4), 8, 4, stride: 64, offset: 256).Type);
        Assert.True(_h.Device.Scanouts[0].IsEnabled);
        _h.Memory.Write(pages.Offset(256 + 64 * 3 + 4 * 5), new byte[] { 0x30, 0x20, 0x10, 0 }); // pixel (5,3), BGRX
        Assert.Equal(RESP_OK_NODATA, _h.Flush(2, GpuHarness.Rect(0, 0, 8, 4)).Type);
        var image = _h.Device.Scanouts[0].Capture()!;
        Assert.Equal((8, 4), (image.Width, image.Height));
        Assert.Equal(new byte[] { 0x10, 0x20, 0x30, 0xff }, image.Pixels.AsSpan((3 * 8 + 5) * 4, 4).ToArray());
        Assert.Equal(RESP_OK_NODATA, _h.Unref(2).Type);
        Assert.False(_h.Device.Scanouts[0].IsEnabled);
        Assert.Equal(0L, _h.Device.Backend.HostBytes);
    }

    [Theory]
    [InlineData(9u, 4u, 32u, 0u)] // rect wider than the framebuffer
    [InlineData(8u, 4u, 28u, 0u)] // stride shorter than a row
    [InlineData(8u, 4u, 32u, 4096u - 100u)] // runs past the blob
    [InlineData(8u, 4000u, 32u, 0u)] // taller than the blob
    public void ScanoutBlobGeometryIsChecked(uint width, uint height, uint stride, uint offset)
    {
        var pages = _h.AllocatePages(4096);
        Assert.Equal(RESP_OK_NODATA, _h.CreateGuestBlob(2, 4096, [(pages.Value, 4096)]).Type);
        var reply = _h.SetScanoutBlob(0, 2, GpuHarness.Rect(0, 0, Math.Min(width, 9), Math.Min(height, 4)), width == 9 ? 8 : width, height, stride, offset);
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, reply.Type);
        Assert.False(_h.Device.Scanouts[0].IsEnabled);
    }

    [Fact]
    public void ScanoutBlobIdsAreChecked()
    {
        _h.CreateBackedResource(3, 4, 4);
        Assert.Equal(RESP_ERR_INVALID_SCANOUT_ID, _h.SetScanoutBlob(5, 2, GpuHarness.Rect(0, 0, 4, 4), 4, 4, 16).Type);
        Assert.Equal(RESP_ERR_INVALID_RESOURCE_ID, _h.SetScanoutBlob(0, 2, GpuHarness.Rect(0, 0, 4, 4), 4, 4, 16).Type);
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, _h.SetScanoutBlob(0, 3, GpuHarness.Rect(0, 0, 4, 4), 4, 4, 16).Type); // 2D
        Assert.Equal(RESP_OK_NODATA, _h.SetScanoutBlob(0, 0, default, 0, 0, 0).Type); // disable
    }

    [Fact]
    public void TwoDStillWorksWithEveryFeatureOffered()
    {
        var pages = _h.CreateBackedResource(2, 4, 4);
        _h.Memory.Write(pages, new byte[] { 1, 2, 3, 4 });
        Assert.Equal(RESP_OK_NODATA, _h.Transfer(2, GpuHarness.Rect(0, 0, 4, 4), 0).Type);
        Assert.Equal(RESP_OK_NODATA, _h.SetScanout(0, 2, GpuHarness.Rect(0, 0, 4, 4)).Type);
        Assert.Equal(RESP_OK_NODATA, _h.Flush(2, GpuHarness.Rect(0, 0, 4, 4)).Type);
        Assert.Equal(3, _h.Device.Scanouts[0].Capture()!.Pixels[0]);
    }
}
