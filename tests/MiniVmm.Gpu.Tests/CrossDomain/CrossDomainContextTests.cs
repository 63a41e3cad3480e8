using System.Net.Sockets;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>
/// Cross-domain contexts through the whole device, against a plain listening Unix socket standing in for the
/// compositor (the test accepts and plays it): INIT, fenced POLLs, hang-ups, teardown, and hostile streams.
/// In the Soak collection, which runs alone: one test counts the process's fds.
/// </summary>
[Collection("Soak")]
public sealed class CrossDomainContextTests : StandInCompositorTests
{


    private Socket Open(uint ctx)
    {
        Assert.Equal(RESP_OK_NODATA, H.CreateContext(ctx).Type);
        H.CreateRing(ctx * 100, ctx);
        H.CreateRing(ctx * 100 + 1, ctx);
        Assert.Equal(RESP_OK_NODATA, H.Submit3D(ctx, GpuHarness.XdInit(ctx * 100, ctx * 100 + 1)).Type);
        return Listener.Accept();
    }

    [Fact]
    public void APollFenceWaitsForTheCompositorAndCarriesItsBytes()
    {
        using var peer = Open(1);
        var poll = H.StartSubmit3D(1, GpuHarness.XdPoll(), fence: 7, ring: 1);
        var later = H.StartSubmit3D(1, [], fence: 8, ring: 1); // same timeline: waits behind the POLL
        var ring0 = H.Submit3D(1, [], fence: 9, ring: 0); // another timeline: at once
        Assert.Equal((RESP_OK_NODATA, 9UL), (ring0.Type, ring0.Header.FenceId));
        Thread.Sleep(50);
        Assert.Empty(H.Control.TakeUsed());

        var hello = new byte[3000]; // crosses the ring's two mem entries
        new Random(1).NextBytes(hello);
        peer.Send(hello);
        var done = H.WaitUsed(Wait, poll, later);
        Assert.Equal([7UL, 8UL], done.Select(d => d.FenceId));
        var (ids, data) = GpuHarness.ParseReceive(H.ReadRing(101));
        Assert.Empty(ids);
        Assert.Equal(hello, data);
    }

    [Fact]
    public void DataAlreadyWaitingAnswersThePollAtOnce()
    {
        using var peer = Open(1);
        peer.Send("abcd"u8.ToArray());
        Thread.Sleep(50);
        var reply = H.Submit3D(1, GpuHarness.XdPoll(), fence: 3, ring: 1);
        Assert.Equal((RESP_OK_NODATA, 3UL), (reply.Type, reply.Header.FenceId));
        Assert.Equal("abcd"u8.ToArray(), GpuHarness.ParseReceive(H.ReadRing(101)).Data);
    }

    /// <summary>
    /// Regression: a plain SEND ends by pumping the channel, so when the compositor's reply is already there it
    /// answers the outstanding POLL inside that SUBMIT. The device must credit that message to the POLL's fence
    /// then; it once only did so for fenced submits, and the guest proxy waited forever (wayland-info hung).
    /// The race with the event-loop thread is timing-dependent, hence many rounds.
    /// </summary>
    [Fact]
    public void AReplyPickedUpByAPlainSendStillCompletesThePollFence()
    {
        using var peer = Open(1);
        for (ulong round = 1; round <= 100; round++)
        {
            var poll = H.StartSubmit3D(1, GpuHarness.XdPoll(), fence: round, ring: 1);
            peer.Send("pong"u8.ToArray());
            var send = H.StartSubmit3D(1, GpuHarness.XdSend("ping"u8), fence: null, ring: null); // no fence, no ring

            var done = H.WaitUsed(TimeSpan.FromSeconds(5), poll, send);
            Assert.Contains(done, reply => reply.FenceId == round);
            Assert.All(done, reply => Assert.Equal((uint)RESP_OK_NODATA, reply.Type));
            var buffer = new byte[16];
            peer.Receive(buffer); // drain the "ping" so the peer's buffer never fills
        }
    }

    [Fact]
    public void HangUpIsAnEmptyReceiveAndANewContextReconnects()
    {
        var peer = Open(1);
        var poll = H.StartSubmit3D(1, GpuHarness.XdPoll(), fence: 1, ring: 1);
        peer.Dispose();
        H.WaitUsed(Wait, poll);
        var (ids, data) = GpuHarness.ParseReceive(H.ReadRing(101));
        Assert.Empty(ids);
        Assert.Empty(data);
        Assert.False(H.Device.Backend.GetCrossDomainContext(1)!.IsConnected);
        // Every later POLL is answered at once, and SEND is refused: the guest never waits on a dead channel.
        Assert.Equal(RESP_OK_NODATA, H.Submit3D(1, GpuHarness.XdPoll(), fence: 2, ring: 1).Type);
        Assert.Equal(RESP_ERR_UNSPEC, H.Submit3D(1, GpuHarness.XdSend("x"u8)).Type);
        using var second = Open(2);
        Assert.True(H.Device.Backend.GetCrossDomainContext(2)!.IsConnected);
    }

    [Fact]
    public void WithoutACompositorInitFailsAndPollsAnswerHangUps()
    {
        using var h = new GpuHarness(GpuHarness.BlobOptions());
        Assert.Equal(RESP_OK_NODATA, h.CreateContext(1).Type);
        h.CreateRing(10, 1);
        h.CreateRing(11, 1);
        Assert.Equal(RESP_ERR_UNSPEC, h.Submit3D(1, GpuHarness.XdInit(10, 11)).Type);
        Assert.Equal(RESP_OK_NODATA, h.Submit3D(1, GpuHarness.XdPoll(), fence: 4, ring: 1).Type);
        Assert.Empty(GpuHarness.ParseReceive(h.ReadRing(11)).Data);
        h.Device.Reset();
    }

    [Fact]
    public void DestroyingAContextReturnsItsWaitingPolls()
    {
        using var peer = Open(1);
        var poll = H.StartSubmit3D(1, GpuHarness.XdPoll(), fence: 5, ring: 1);
        var destroy = H.Start(GpuHarness.Hdr(CMD_CTX_DESTROY, ctxId: 1));
        Assert.Equal([0UL, 5UL], H.WaitUsed(Wait, poll, destroy).Select(d => d.FenceId).Order());
        Assert.Equal(0, peer.Receive(new byte[16])); // the device closed its end
    }

    [Fact]
    public void ImageRequirementsGiveALinearLayoutAndABlobId()
    {
        using var peer = Open(1);
        Assert.Equal(RESP_OK_NODATA, H.Submit3D(1, GpuHarness.XdImageRequirements(100, 50)).Type);
        var answer = UpstreamCrossDomainWire.ParseImageRequirements(H.ReadRing(100));
        Assert.Equal((400u, 20480UL), (answer.Strides[0], answer.Size)); // 100 x 4 bytes, no row alignment; whole pages
        Assert.NotEqual(0u, answer.BlobId);
        Assert.Equal(RESP_OK_NODATA, H.CreateHostBlob(5, answer.Size, ctxId: 1, blobId: answer.BlobId).Type);
        Assert.Equal(RESP_ERR_UNSPEC, H.Submit3D(1, GpuHarness.XdImageRequirements(0, 50)).Type);
        Assert.Equal(RESP_ERR_UNSPEC, H.Submit3D(1, GpuHarness.XdImageRequirements(10, 10, drmFormat: UpstreamCrossDomainWire.Fourcc("YUYV"))).Type);
    }

    [Fact]
    public void HostileStreamsAreRefusedAndTheDeviceGoesOn()
    {
        Assert.Equal(RESP_OK_NODATA, H.CreateContext(1).Type);
        Assert.Equal(RESP_ERR_UNSPEC, H.Submit3D(1, GpuHarness.XdPoll(), fence: 1, ring: 1).Type); // POLL before INIT
        var badSize = GpuHarness.XdPoll();
        badSize[2] = 4; // cmd_size below the header
        Assert.Equal(RESP_ERR_UNSPEC, H.Submit3D(1, badSize).Type);
        badSize[2] = 200; // past the stream
        Assert.Equal(RESP_ERR_UNSPEC, H.Submit3D(1, badSize).Type);
        Assert.Equal(RESP_ERR_UNSPEC, H.Submit3D(1, GpuHarness.XdInit(77, 78)).Type); // rings that do not exist
        H.CreateRing(10, 1);
        H.CreateRing(11, 1);
        Assert.Equal(RESP_OK_NODATA, H.Submit3D(1, GpuHarness.XdInit(10, 11)).Type);
        using var peer = Listener.Accept();
        Assert.Equal(RESP_ERR_UNSPEC, H.Submit3D(1, GpuHarness.XdInit(10, 11)).Type); // twice
        var tooMany = GpuHarness.XdSend("abcd"u8);
        BitConverter.TryWriteBytes(tooMany.AsSpan(8), 29u);
        Assert.Equal(RESP_ERR_UNSPEC, H.Submit3D(1, tooMany).Type);
        Assert.Equal(RESP_ERR_UNSPEC, H.Submit3D(1, GpuHarness.XdSend("abcd"u8, (999u, (uint)CrossDomainIdType.VirtgpuBlob))).Type);
        Assert.Equal(RESP_ERR_UNSPEC, H.Submit3D(1, GpuHarness.XdSend("abcd"u8, (10u, (uint)CrossDomainIdType.VirtgpuBlob))).Type); // a guest blob has no fd
        Assert.Equal(RESP_OK_NODATA, H.Submit3D(1, GpuHarness.XdSend("abcd"u8)).Type);
        var got = new byte[4];
        Assert.Equal(4, peer.Receive(got));
        Assert.Equal("abcd"u8.ToArray(), got);
        Assert.Equal(RESP_OK_DISPLAY_INFO, H.GetDisplayInfo().Type);
    }

    [Fact]
    public void ManyContextsLeaveTheFdCountFlat()
    {
        // The rings outlive the contexts (plain guest blobs); each context attaches them, connects, sends a blob fd.
        Assert.Equal(RESP_OK_NODATA, H.CreateContext(99).Type);
        H.CreateRing(2, 99);
        H.CreateRing(3, 99);
        for (uint i = 0; i < 5; i++)
            Cycle(i);
        int before = Directory.GetFiles("/proc/self/fd").Length;
        for (uint i = 0; i < 200; i++)
            Cycle(i);
        int after = Directory.GetFiles("/proc/self/fd").Length;
        // A leak of even one fd per cycle would show +200; the collection runs alone, so little else moves the count.
        Assert.True(after - before < 40, $"{before} fds before 200 cycles, {after} after");

        void Cycle(uint i)
        {
            uint ctx = 1 + i % 7;
            Assert.Equal(RESP_OK_NODATA, H.CreateContext(ctx).Type);
            Assert.Equal(RESP_OK_NODATA, H.CtxResource(CMD_CTX_ATTACH_RESOURCE, ctx, 2).Type);
            Assert.Equal(RESP_OK_NODATA, H.CtxResource(CMD_CTX_ATTACH_RESOURCE, ctx, 3).Type);
            Assert.Equal(RESP_OK_NODATA, H.Submit3D(ctx, GpuHarness.XdInit(2, 3)).Type);
            Assert.Equal(RESP_OK_NODATA, H.CreateQueriedHostBlob(50, 4096, ctxId: ctx, queryRing: 2).Type);
            using (var peer = Listener.Accept())
            {
                var poll = H.StartSubmit3D(ctx, GpuHarness.XdPoll(), fence: i, ring: 1);
                Assert.Equal(RESP_OK_NODATA, H.Submit3D(ctx, GpuHarness.XdSend("abcd"u8, (50u, (uint)CrossDomainIdType.VirtgpuBlob))).Type);
                H.WaitUsed(Wait, poll, H.Start(GpuHarness.Hdr(CMD_CTX_DESTROY, ctxId: ctx)));
            }
            Assert.Equal(RESP_OK_NODATA, H.Unref(50).Type);
        }
    }
}
