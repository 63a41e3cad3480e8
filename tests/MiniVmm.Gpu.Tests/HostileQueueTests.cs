using MiniVmm.Gpu.Protocol;
using MiniVmm.TestSupport;
using MiniVmm.Virtio.Queue;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;
using static MiniVmm.Virtio.Queue.VirtqConstants;

namespace MiniVmm.Gpu.Tests;

/// <summary>Malformed requests and malformed queues: the device answers or flags them, then keeps serving.</summary>
public sealed class HostileQueueTests : IDisposable
{
    private readonly GpuHarness _h = new();

    public void Dispose() => _h.Dispose();

    private void AssertStillServing() => Assert.Equal(RESP_OK_DISPLAY_INFO, _h.GetDisplayInfo().Type);

    private VirtqUsedElem KickControl()
    {
        _h.Device.QueueNotify(VirtioGpuConstants.ControlQueue);
        return Assert.Single(_h.Control.TakeUsed());
    }

    [Fact]
    public void RequestShorterThanTheHeaderIsUnspec()
    {
        var reply = _h.SubmitBytes(new byte[10]);
        Assert.Equal(RESP_ERR_UNSPEC, reply.Type);
        Assert.Equal(24u, reply.UsedLength);
        Assert.Contains("shorter than the 24-byte header", _h.Trace[^1], StringComparison.Ordinal);
        AssertStillServing();
    }

    [Theory]
    [InlineData(24)] // header only
    [InlineData(30)] // part of the body
    [InlineData(39)] // one byte short
    public void TruncatedBodyIsUnspecAndTheFenceIsStillEchoed(int length)
    {
        var command = new VirtioGpuResourceCreate2d
        {
            Hdr = GpuHarness.Hdr(CMD_RESOURCE_CREATE_2D, fence: 12),
            ResourceId = 2,
            Format = 2,
            Width = 8,
            Height = 8,
        };
        var reply = _h.SubmitBytes(GpuHarness.Bytes(in command)[..length]);
        Assert.Equal(RESP_ERR_UNSPEC, reply.Type);
        Assert.Equal(12UL, reply.Header.FenceId);
        Assert.Equal(0, _h.Device.Backend.ResourceCount);
        AssertStillServing();
    }

    [Fact]
    public void MissingResponseBufferCompletesWithLengthZero()
    {
        var reply = _h.CreateResource(2, VirtioGpuFormat.B8G8R8X8_UNORM, 8, 8);
        Assert.Equal(RESP_OK_NODATA, reply.Type);
        reply = _h.Submit(new VirtioGpuResourceUnref { Hdr = GpuHarness.Hdr(CMD_RESOURCE_UNREF), ResourceId = 2 }, responseSize: 0);
        Assert.Equal(0u, reply.UsedLength);
        Assert.Equal(0, _h.Device.Backend.ResourceCount); // the command itself was still carried out
        AssertStillServing();
    }

    [Fact]
    public void ShortResponseBufferCompletesWithLengthZeroAndWritesNothing()
    {
        var reply = _h.GetDisplayInfo(responseSize: 100);
        Assert.Equal(0u, reply.UsedLength);
        Assert.All(reply.Response, b => Assert.Equal(0, b));
        AssertStillServing();
    }

    [Fact]
    public void RequestInAWritableBufferIsATruncatedRequest()
    {
        // Wrong direction: the "request" is device-writable, so the device sees no readable bytes at all.
        var header = _h.Control.Allocate(24);
        _h.Memory.Write(header, GpuHarness.Bytes(GpuHarness.Hdr(CMD_GET_DISPLAY_INFO)));
        _h.Control.AddChain(MockBuffer.Raw(header.Value, 24, writable: true));
        var used = KickControl();
        Assert.Equal(24u, used.Len);
        Assert.Equal((uint)RESP_ERR_UNSPEC, _h.Memory.Read<VirtioGpuCtrlHdr>(header).Type);
        AssertStillServing();
    }

    [Fact]
    public void ReadableAfterWritableFlagsNeedsResetAndReturnsTheHead()
    {
        var chain = _h.Control.AddChain(MockBuffer.WritableSpace(24), MockBuffer.Readable(GpuHarness.Bytes(GpuHarness.Hdr(CMD_GET_DISPLAY_INFO))));
        var used = KickControl();
        Assert.Equal((chain.Head, 0u), ((ushort)used.Id, used.Len));
        Assert.Contains("after a device-writable", Assert.Single(_h.Interrupt.NeedsResetReasons), StringComparison.Ordinal);
        AssertStillServing();
    }

    [Fact]
    public void LoopingChainFlagsNeedsReset()
    {
        var request = _h.Control.Allocate(24);
        _h.Memory.Write(request, GpuHarness.Bytes(GpuHarness.Hdr(CMD_GET_DISPLAY_INFO)));
        _h.Control.WriteDescriptor(200, request.Value, 24, VIRTQ_DESC_F_NEXT, 201);
        _h.Control.WriteDescriptor(201, request.Value, 24, VIRTQ_DESC_F_NEXT, 200);
        _h.Control.Publish(200);
        var used = KickControl();
        Assert.Equal((200u, 0u), (used.Id, used.Len));
        Assert.Contains("loop", Assert.Single(_h.Interrupt.NeedsResetReasons), StringComparison.Ordinal);
        AssertStillServing();
    }

    [Theory]
    [InlineData(GpuHarness.MemorySize, 24u, false)]        // out-of-range address
    [InlineData(0x1000UL, 0xFFFF_FF00u, false)]           // huge length
    [InlineData(0xFFFF_FFFF_FFFF_FFF8UL, 24u, true)]       // wrapping writable buffer
    public void BuffersOutsideMemoryFlagNeedsReset(ulong address, uint length, bool writable)
    {
        var chain = _h.Control.AddChain(MockBuffer.Readable(GpuHarness.Bytes(GpuHarness.Hdr(CMD_GET_DISPLAY_INFO))),
            MockBuffer.Raw(address, length, writable));
        var used = KickControl();
        Assert.Equal((chain.Head, 0u), ((ushort)used.Id, used.Len));
        Assert.Single(_h.Interrupt.NeedsResetReasons);
        AssertStillServing();
    }

    [Fact]
    public void ZeroLengthDescriptorsAreIgnored()
    {
        var chain = _h.Control.AddChain(MockBuffer.Raw(0xFFFF_0000_0000, 0, false),
            MockBuffer.Readable(GpuHarness.Bytes(GpuHarness.Hdr(CMD_GET_DISPLAY_INFO))),
            MockBuffer.Raw(0, 0, true), MockBuffer.WritableSpace(408));
        var used = KickControl();
        Assert.Equal(408u, used.Len);
        Assert.Equal((uint)RESP_OK_DISPLAY_INFO, _h.Memory.Read<VirtioGpuCtrlHdr>(chain.BufferAddresses[3]).Type);
        Assert.Empty(_h.Interrupt.NeedsResetReasons);
    }

    [Fact]
    public void AvailIndexFarAheadFlagsNeedsResetUntilTheDriverRecovers()
    {
        _h.Control.AvailIdx = 1000;
        _h.Device.QueueNotify(0);
        Assert.Empty(_h.Control.TakeUsed());
        Assert.Contains("avail idx 1000", Assert.Single(_h.Interrupt.NeedsResetReasons), StringComparison.Ordinal);
        _h.Control.AvailIdx = 0;
        AssertStillServing();
    }

    [Fact]
    public void HeadOutOfRangeIsSkipped()
    {
        _h.Control.WriteAvailEntry(0, 300);
        _h.Control.AvailIdx = 1;
        _h.Device.QueueNotify(0);
        Assert.Empty(_h.Control.TakeUsed());
        Assert.Single(_h.Interrupt.NeedsResetReasons);
        AssertStillServing();
    }

    [Fact]
    public void SeveralChainsInOneKickAreServedInOrderWithOneInterrupt()
    {
        var first = _h.Control.AddChain(MockBuffer.Readable(GpuHarness.Bytes(GpuHarness.Hdr(CMD_GET_DISPLAY_INFO))), MockBuffer.WritableSpace(408));
        var second = _h.Control.AddChain(MockBuffer.Readable(new byte[3]), MockBuffer.WritableSpace(24));
        _h.Device.QueueNotify(0);
        var used = _h.Control.TakeUsed();
        Assert.Equal([(first.Head, 408u), (second.Head, 24u)], used.Select(u => ((ushort)u.Id, u.Len)));
        Assert.Equal([0], _h.Interrupt.QueueSignals);
    }

    [Fact]
    public void NoInterruptFlagSuppressesTheSignal()
    {
        _h.Control.AvailFlags = VIRTQ_AVAIL_F_NO_INTERRUPT;
        AssertStillServing();
        Assert.Empty(_h.Interrupt.QueueSignals);
    }

    [Fact]
    public void EventIdxIsHonoured()
    {
        using var h = new GpuHarness(eventIndex: true);
        Assert.Equal(RESP_OK_DISPLAY_INFO, h.GetDisplayInfo().Type);
        Assert.Equal([0], h.Interrupt.QueueSignals);
        h.Control.UsedEvent = 5; // "interrupt me after the 6th used entry"
        for (int i = 0; i < 5; i++)
            Assert.Equal(RESP_OK_DISPLAY_INFO, h.GetDisplayInfo().Type);
        Assert.Equal([0, 0], h.Interrupt.QueueSignals);
        Assert.Equal(6, h.Control.AvailEvent);
    }

    [Fact]
    public void NotifyForAnUnknownQueueIsIgnored()
    {
        _h.Device.QueueNotify(7);
        _h.Device.QueueNotify(-1);
        AssertStillServing();
    }
}
