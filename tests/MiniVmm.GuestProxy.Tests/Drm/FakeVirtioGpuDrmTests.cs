using MiniVmm.CrossDomain;
using MiniVmm.Gpu;
using MiniVmm.GuestProxy.Drm;
using static Tmds.Linux.LibC;

namespace MiniVmm.GuestProxy.Tests.Drm;

/// <summary>
/// The model's own checks, so that the transport's tests stand on a driver that refuses what Linux 6.1 refuses
/// (virtgpu_ioctl.c, drm_gem.c, drm_prime.c) and frees what it frees.
/// </summary>
public sealed unsafe class FakeVirtioGpuDrmTests
{
    [Theory]
    [InlineData(99UL, 2UL, 2UL)] // a capset id above 63
    [InlineData(7UL, 2UL, 2UL)] // a capset the device does not list
    [InlineData(5UL, 2UL, 4UL)] // polling ring 2 of rings 0 and 1
    [InlineData(5UL, 65UL, 2UL)] // more rings than 64
    public void ContextInitRefusesBadParametersWithEinval(ulong capset, ulong rings, ulong pollMask)
    {
        using var file = OpenFile();
        Assert.Equal(-EINVAL, ContextInit(file, capset, rings, pollMask));
        Assert.DoesNotContain("CMD_CTX_CREATE 0", file.Sent);
    }

    [Fact]
    public void ContextInitCreatesTheContextOnceAndASecondOneIsEexist()
    {
        using var file = OpenFile();
        Assert.Equal(0, ContextInit(file, 5, 2, 2));
        Assert.Equal(-EEXIST, ContextInit(file, 5, 2, 2));
        Assert.Single(file.Sent, "CMD_CTX_CREATE 0");
        Assert.Empty(file.DeviceErrors);
    }

    [Fact]
    public void BadHandlesFlagsAndRingsGetTheKernelsErrnos()
    {
        using var file = OpenFile();
        Assert.Equal(0, ContextInit(file, 5, 2, 2));
        var map = new DrmVirtGpuMap { Handle = 42 };
        Assert.Equal(-ENOENT, file.Ioctl(VirtGpuDrm.Map, &map));
        var close = new DrmGemClose { Handle = 42 };
        Assert.Equal(-EINVAL, file.Ioctl(VirtGpuDrm.GemClose, &close)); // drm_gem_handle_delete
        var prime = new DrmPrimeHandle { Handle = 42, Flags = VirtGpuDrm.DrmCloexec };
        Assert.Equal(-ENOENT, file.Ioctl(VirtGpuDrm.PrimeHandleToFd, &prime));
        var blob = Host3d(file, 4096);
        prime = new DrmPrimeHandle { Handle = blob.BoHandle, Flags = 0x1 };
        Assert.Equal(-EINVAL, file.Ioctl(VirtGpuDrm.PrimeHandleToFd, &prime));
        var guestWithBlobId = new DrmVirtGpuResourceCreateBlob { BlobMem = VirtGpuDrm.BlobMemGuest, Size = 4096, BlobId = 3 };
        Assert.Equal(-EINVAL, file.Ioctl(VirtGpuDrm.ResourceCreateBlob, &guestWithBlobId));
        var command = new byte[8];
        fixed (byte* bytes = command)
        {
            var exec = new DrmVirtGpuExecBuffer { Flags = VirtGpuDrm.ExecbufRingIdx, Size = 8, Command = (ulong)bytes, RingIdx = 2 };
            Assert.Equal(-EINVAL, file.Ioctl(VirtGpuDrm.ExecBuffer, &exec)); // rings 0 and 1 only
            exec = new DrmVirtGpuExecBuffer { Flags = 0x80, Size = 8, Command = (ulong)bytes };
            Assert.Equal(-EINVAL, file.Ioctl(VirtGpuDrm.ExecBuffer, &exec));
        }
        map = new DrmVirtGpuMap { Handle = blob.BoHandle };
        Assert.Equal(0, file.Ioctl(VirtGpuDrm.Map, &map));
        Assert.True(file.Map(map.Offset, 2048, out var error) == null); // virtio_gpu_vram_mmap: no partial mappings
        Assert.Equal(-EINVAL, error);
    }

    [Fact]
    public void GemCloseFreesAnUnexportedBlobButAnExportKeepsItsResource()
    {
        // The context and its two rings come from the transport; each blob from an image query, as a device holding
        // crosvm's rules wants it.
        const int rings = 2;
        using var compositor = new StandInCompositor();
        var file = new FakeVirtioGpuDrm(compositor.Sockets);
        using var transport = new DrmCrossDomainTransport(file, FakeVirtioGpuDrm.DevicePath, CrossDomainConstants.ChannelTypeWayland);
        transport.Connect();
        var kept = Host3d(file, transport.GetImageRequirements(32, 64, Xr24)); // two pages
        var prime = new DrmPrimeHandle { Handle = kept.BoHandle, Flags = VirtGpuDrm.DrmCloexec | VirtGpuDrm.DrmRdwr, Fd = -1 };
        Assert.Equal(0, file.Ioctl(VirtGpuDrm.PrimeHandleToFd, &prime));
        using var export = new Wayland.Fd(prime.Fd);
        var freed = Host3d(file, transport.GetImageRequirements(16, 16, Xr24)); // one page
        Assert.Equal(rings + 2, file.DeviceResources);

        var close = new DrmGemClose { Handle = freed.BoHandle };
        Assert.Equal(0, file.Ioctl(VirtGpuDrm.GemClose, &close));
        Assert.Equal([$"CMD_CTX_DETACH_RESOURCE {freed.ResHandle}", $"CMD_RESOURCE_UNMAP_BLOB {freed.ResHandle}", $"CMD_RESOURCE_UNREF {freed.ResHandle}"], file.Sent[^3..]);
        close = new DrmGemClose { Handle = kept.BoHandle };
        Assert.Equal(0, file.Ioctl(VirtGpuDrm.GemClose, &close));
        Assert.Equal($"CMD_CTX_DETACH_RESOURCE {kept.ResHandle}", file.Sent[^1]);
        Assert.Equal(rings + 1, file.DeviceResources);
        Assert.Equal(-EINVAL, file.Ioctl(VirtGpuDrm.GemClose, &close)); // the handle is gone
        Assert.Empty(file.DeviceErrors);
    }

    private static FakeVirtioGpuDrm OpenFile()
    {
        var file = new FakeVirtioGpuDrm(CompositorSockets.None);
        Assert.Equal(-ENOENT, file.Open("/dev/dri/card1"));
        Assert.Equal(0, file.Open(FakeVirtioGpuDrm.DevicePath));
        return file;
    }

    private static int ContextInit(FakeVirtioGpuDrm file, ulong capset, ulong rings, ulong pollMask)
    {
        var parameters = stackalloc DrmVirtGpuContextSetParam[3];
        parameters[0] = new() { Param = VirtGpuDrm.ParamCapsetId, Value = capset };
        parameters[1] = new() { Param = VirtGpuDrm.ParamNumRings, Value = rings };
        parameters[2] = new() { Param = VirtGpuDrm.ParamPollRingsMask, Value = pollMask };
        var init = new DrmVirtGpuContextInit { NumParams = 3, CtxSetParams = (ulong)parameters };
        return file.Ioctl(VirtGpuDrm.ContextInit, &init);
    }

    private const uint Xr24 = 0x34325258;

    /// <summary>A mappable, shareable HOST3D blob with the blob_id and size of an image query's answer.</summary>
    private static DrmVirtGpuResourceCreateBlob Host3d(FakeVirtioGpuDrm file, ImageRequirements image)
    {
        var blob = new DrmVirtGpuResourceCreateBlob { BlobMem = VirtGpuDrm.BlobMemHost3d, BlobFlags = VirtGpuDrm.BlobFlagMappable | VirtGpuDrm.BlobFlagShareable, Size = image.Size, BlobId = image.BlobId };
        Assert.Equal(0, file.Ioctl(VirtGpuDrm.ResourceCreateBlob, &blob));
        return blob;
    }

    /// <summary>A mappable, shareable HOST3D blob with a blob_id the device never registered (fresh pages).</summary>
    private static DrmVirtGpuResourceCreateBlob Host3d(FakeVirtioGpuDrm file, ulong size)
    {
        var blob = new DrmVirtGpuResourceCreateBlob { BlobMem = VirtGpuDrm.BlobMemHost3d, BlobFlags = VirtGpuDrm.BlobFlagMappable | VirtGpuDrm.BlobFlagShareable, Size = size };
        Assert.Equal(0, file.Ioctl(VirtGpuDrm.ResourceCreateBlob, &blob));
        return blob;
    }
}
