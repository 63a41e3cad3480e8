using MiniVmm.Gpu.Protocol;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests;

public sealed class CapsetAndContextTests : IDisposable
{
    private readonly GpuHarness _h = new(GpuHarness.BlobOptions());

    public void Dispose() => _h.Dispose();

    private Reply CapsetInfo(uint index) =>
        _h.Submit(new VirtioGpuGetCapsetInfo { Hdr = GpuHarness.Hdr(CMD_GET_CAPSET_INFO), CapsetIndex = index }, 40);

    private Reply Capset(uint id, uint version) =>
        _h.Submit(new VirtioGpuGetCapset { Hdr = GpuHarness.Hdr(CMD_GET_CAPSET), CapsetId = id, CapsetVersion = version }, 40);

    [Fact]
    public void FeaturesAndConfigOfferOneCrossDomainCapset()
    {
        ulong expected = 1UL << VirtioGpuConstants.VIRTIO_GPU_F_EDID | 1UL << VirtioGpuConstants.VIRTIO_GPU_F_VIRGL
            | 1UL << VirtioGpuConstants.VIRTIO_GPU_F_CONTEXT_INIT | 1UL << VirtioGpuConstants.VIRTIO_GPU_F_RESOURCE_BLOB
            | 1UL << VirtioGpuConstants.VIRTIO_GPU_F_RESOURCE_UUID;
        Assert.Equal(expected, _h.Device.DeviceFeatures);
        var config = new byte[4];
        _h.Device.ReadConfig(12, config);
        Assert.Equal(1u, BitConverter.ToUInt32(config)); // num_capsets
    }

    [Fact]
    public void CapsetInfoAndCapabilities()
    {
        var info = CapsetInfo(0);
        Assert.Equal(RESP_OK_CAPSET_INFO, info.Type);
        Assert.Equal(40u, info.UsedLength);
        var body = info.As<VirtioGpuRespCapsetInfo>();
        Assert.Equal((5u, 0u, 16u), (body.CapsetId, body.CapsetMaxVersion, body.CapsetMaxSize));
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, CapsetInfo(1).Type);

        var caps = Capset(5, 0);
        Assert.Equal(RESP_OK_CAPSET, caps.Type);
        Assert.Equal(40u, caps.UsedLength);
        // supported_channels 0: these options configure no compositor socket (CrossDomainChannelTypeTests has them).
        Assert.Equal([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], caps.Response[24..40]);
        using var withSocket = new GpuHarness(GpuHarness.BlobOptions() with { WaylandSockets = CompositorSockets.Only("/run/wayland-0") });
        var wayland = withSocket.Submit(new VirtioGpuGetCapset { Hdr = GpuHarness.Hdr(CMD_GET_CAPSET), CapsetId = 5 }, 40);
        Assert.Equal([1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], wayland.Response[24..40]);
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, Capset(1, 0).Type);
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, Capset(5, 1).Type);
    }

    [Fact]
    public void WithoutContextsTheCommandsAreUnsupported()
    {
        using var plain = new GpuHarness();
        Assert.Equal(0u, (uint)(plain.Device.DeviceFeatures & 1UL << VirtioGpuConstants.VIRTIO_GPU_F_VIRGL));
        Assert.Equal(RESP_ERR_UNSPEC, plain.CreateContext(1).Type);
        Assert.Equal(RESP_ERR_UNSPEC, plain.CreateHostBlob(2, 4096).Type);
    }

    [Fact]
    public void ContextLifecycle()
    {
        Assert.Equal(RESP_OK_NODATA, _h.CreateContext(1).Type);
        Assert.Equal(RESP_OK_NODATA, _h.CreateContext(2, contextInit: 0).Type); // the default context of any DRM file
        Assert.Equal(RESP_ERR_INVALID_CONTEXT_ID, _h.CreateContext(1).Type); // duplicate
        Assert.Equal(RESP_ERR_INVALID_CONTEXT_ID, _h.CreateContext(0).Type);
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, _h.CreateContext(3, contextInit: 1).Type); // virgl capset: not here
        Assert.Equal(2, _h.Device.Backend.ContextCount);
        Assert.Equal(RESP_OK_NODATA, _h.DestroyContext(1).Type);
        Assert.Equal(RESP_ERR_INVALID_CONTEXT_ID, _h.DestroyContext(1).Type);
        Assert.Equal(RESP_OK_NODATA, _h.CreateContext(1).Type); // the id is free again
        Assert.Contains(_h.Trace, line => line.Contains("CTX_CREATE ctx=1 init=0x5 name=weston -> OK_NODATA", StringComparison.Ordinal));
    }

    [Fact]
    public void OverlongDebugNameIsRejected()
    {
        var cmd = new VirtioGpuCtxCreate { Hdr = GpuHarness.Hdr(CMD_CTX_CREATE, ctxId: 1), Nlen = 65, ContextInit = 5 };
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, _h.Submit(cmd).Type);
    }

    [Fact]
    public void AttachAndDetachAreTolerant()
    {
        _h.CreateBackedResource(2, 4, 4);
        Assert.Equal(RESP_OK_NODATA, _h.CtxResource(CMD_CTX_ATTACH_RESOURCE, 9, 2).Type); // unknown context: ignored
        Assert.Equal(RESP_OK_NODATA, _h.CreateContext(1).Type);
        Assert.Equal(RESP_OK_NODATA, _h.CtxResource(CMD_CTX_ATTACH_RESOURCE, 1, 2).Type);
        Assert.Equal(RESP_ERR_INVALID_RESOURCE_ID, _h.CtxResource(CMD_CTX_ATTACH_RESOURCE, 1, 77).Type);
        Assert.Equal(RESP_OK_NODATA, _h.CtxResource(CMD_CTX_DETACH_RESOURCE, 1, 2).Type);
        Assert.Equal(RESP_OK_NODATA, _h.CtxResource(CMD_CTX_DETACH_RESOURCE, 1, 77).Type); // teardown after unref
    }

    [Fact]
    public void Submit3DIsACleanError()
    {
        Assert.Equal(RESP_OK_NODATA, _h.CreateContext(1).Type);
        Assert.Equal(RESP_OK_NODATA, _h.CreateContext(2, contextInit: 0).Type);
        byte[] stream = new byte[16];
        Reply Submit(uint ctx, uint size) =>
            _h.Submit(new VirtioGpuCmdSubmit { Hdr = GpuHarness.Hdr(CMD_SUBMIT_3D, ctxId: ctx), Size = size }, extra: stream);
        Assert.Equal(RESP_ERR_INVALID_CONTEXT_ID, Submit(5, 16).Type);
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, Submit(2, 16).Type); // default context: no command stream
        Assert.Equal(RESP_ERR_UNSPEC, Submit(1, 16).Type); // cross-domain: cmd_size 0 is malformed
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, Submit(1, 17).Type); // size beyond the bytes sent
        Assert.Equal(RESP_OK_DISPLAY_INFO, _h.GetDisplayInfo().Type); // and the device keeps serving
    }

    [Fact]
    public void RingFencesCompleteAtOnceAndBadRingsAreRefused()
    {
        Assert.Equal(RESP_OK_NODATA, _h.CreateContext(1).Type);
        var cmd = new VirtioGpuCtxResource { Hdr = GpuHarness.Hdr(CMD_CTX_DETACH_RESOURCE, fence: 12, ctxId: 1, ringIdx: 63), ResourceId = 2 };
        var reply = _h.Submit(cmd);
        Assert.Equal(RESP_OK_NODATA, reply.Type);
        Assert.Equal((12UL, 1u, (byte)63), (reply.Header.FenceId, reply.Header.CtxId, reply.Header.RingIdx));
        cmd.Hdr.RingIdx = 64;
        reply = _h.Submit(cmd);
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, reply.Type);
        Assert.Equal(12UL, reply.Header.FenceId); // the fence still completes
    }

    [Fact]
    public void ThreeDResourcesAreUnsupported()
    {
        var cmd = new VirtioGpuResourceCreate3d { Hdr = GpuHarness.Hdr(CMD_RESOURCE_CREATE_3D), ResourceId = 2, Width = 4, Height = 4 };
        Assert.Equal(RESP_ERR_UNSPEC, _h.Submit(cmd).Type);
    }
}
