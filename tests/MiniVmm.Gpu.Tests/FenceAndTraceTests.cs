using MiniVmm.Gpu.Protocol;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests;

public sealed class FenceAndTraceTests : IDisposable
{
    private readonly GpuHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public void FencedCommandEchoesTheFence()
    {
        _h.CreateBackedResource(2, 8, 8);
        var reply = _h.Transfer(2, GpuHarness.Rect(0, 0, 8, 8), 0, fence: 41);
        Assert.Equal(RESP_OK_NODATA, reply.Type);
        Assert.Equal(VirtioGpuConstants.VIRTIO_GPU_FLAG_FENCE, reply.Header.Flags);
        Assert.Equal(41UL, reply.Header.FenceId);
    }

    [Fact]
    public void RingFenceEchoesContextAndRing()
    {
        var reply = _h.Submit(GpuHarness.Hdr(CMD_GET_DISPLAY_INFO, fence: 7, ctxId: 3, ringIdx: 1), 408);
        Assert.Equal(RESP_OK_DISPLAY_INFO, reply.Type);
        Assert.Equal(VirtioGpuConstants.VIRTIO_GPU_FLAG_FENCE | VirtioGpuConstants.VIRTIO_GPU_FLAG_INFO_RING_IDX, reply.Header.Flags);
        Assert.Equal((7UL, 3u, (byte)1), (reply.Header.FenceId, reply.Header.CtxId, reply.Header.RingIdx));
    }

    [Fact]
    public void ErrorResponsesStillCompleteTheFence()
    {
        // A guest waiting on the fence of a failed command must not hang.
        var reply = _h.Transfer(99, GpuHarness.Rect(0, 0, 1, 1), 0, fence: 5);
        Assert.Equal(RESP_ERR_INVALID_RESOURCE_ID, reply.Type);
        Assert.Equal(5UL, reply.Header.FenceId);
        Assert.Equal(VirtioGpuConstants.VIRTIO_GPU_FLAG_FENCE, reply.Header.Flags);
    }

    [Fact]
    public void UnfencedResponseHasNoFlags()
    {
        var reply = _h.CreateResource(2, VirtioGpuFormat.B8G8R8X8_UNORM, 8, 8);
        Assert.Equal(0u, reply.Header.Flags);
        Assert.Equal(0UL, reply.Header.FenceId);
    }

    [Fact]
    public void TraceHasOneLinePerCommandWithFieldsAndResponse()
    {
        _h.CreateResource(2, VirtioGpuFormat.B8G8R8X8_UNORM, 1024, 768);
        _h.CreateResource(2, VirtioGpuFormat.B8G8R8X8_UNORM, 1024, 768);
        _h.Transfer(2, GpuHarness.Rect(0, 0, 4, 4), 0, fence: 9);
        _h.UpdateCursor(0, 0, 10, 20);
        Assert.Equal(
        [
            "ctrl RESOURCE_CREATE_2D id=2 fmt=B8G8R8X8_UNORM 1024x768 -> OK_NODATA",
            "ctrl RESOURCE_CREATE_2D id=2 fmt=B8G8R8X8_UNORM 1024x768 -> ERR_INVALID_RESOURCE_ID (resource 2 already exists)",
            "ctrl TRANSFER_TO_HOST_2D id=2 rect=0,0 4x4 offset=0 fence=9 -> ERR_UNSPEC (resource 2 has no backing)",
            "cursor UPDATE_CURSOR scanout=0 id=0 pos=10,20 hot=0,0 -> OK_NODATA",
        ], _h.Trace);
    }

    [Fact]
    public void TraceSaysWhenAResponseCouldNotBeDelivered()
    {
        _h.GetDisplayInfo(responseSize: 24);
        Assert.Equal("ctrl GET_DISPLAY_INFO -> OK_DISPLAY_INFO [not delivered: 24 writable bytes for a 408-byte response, used.len=0]",
            Assert.Single(_h.Trace));
    }

    [Fact]
    public void WithoutATracerNothingIsFormatted()
    {
        using var h = new GpuHarness(traced: false);
        Assert.Equal(RESP_OK_NODATA, h.CreateResource(2, VirtioGpuFormat.B8G8R8X8_UNORM, 8, 8).Type);
        Assert.Empty(h.Trace);
    }
}
