using System.Net.Sockets;
using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Sys;
using MiniVmm.Virtio;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Winsrv;

/// <summary>Guest mistakes and compositor surprises against a scripted compositor: every one is an error response or a len-0 RX, never a throw.</summary>
[Collection("Winsrv")]
public sealed class WinsrvHostileTests
{
    [Fact]
    public void TxReachesTheCompositorAndRxComesBack()
    {
        using var compositor = new ScriptedCompositor();
        using var harness = new WinsrvHarness(compositor.Path);
        Assert.Equal(RESP_OK_NODATA, harness.Connect(7));
        using var peer = compositor.Accept();
        Assert.Equal(RESP_OK_NODATA, harness.Send(7, "hello"u8));
        Assert.Equal("hello"u8.ToArray(), ScriptedCompositor.Read(peer, 5));
        harness.PostRx(2);
        peer.Send("world!"u8);
        var rx = Assert.Single(harness.WaitRx(r => r.Count > 0, pump: true));
        Assert.Equal((WinsrvNumbers.Reconstructed.CmdRx, 7u, 6u), (rx.Header.Hdr.Type, rx.Header.Fd, rx.Header.Len));
        Assert.Equal("world!"u8.ToArray(), rx.Data);
        Assert.Equal((uint)(WinsrvTx.Size + 6), rx.UsedLength);
        Assert.Empty(rx.ResourceIds);
        Assert.Contains(harness.Trace, line => line.StartsWith("ctrl 0x400 winsrv CONNECT fd=7", StringComparison.Ordinal));
    }

    [Fact]
    public void BadTxFieldsAreErrorResponses()
    {
        using var compositor = new ScriptedCompositor();
        using var harness = new WinsrvHarness(compositor.Path, new GpuOptions
        {
            Edid = false, Winsrv = true, Blob = true, Contexts = true,
            WinsrvNumbers = WinsrvNumbers.Reconstructed with { MaxAllocs = 2 },
        });
        Assert.Equal(RESP_OK_NODATA, harness.Connect(1));
        using var peer = compositor.Accept();
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, harness.Send(99, "x"u8)); // unknown connection id
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, harness.Send(1, "abc"u8, len: 4)); // len past the chain
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, harness.Send(1, new byte[5000], len: 5000)); // len past MaxData
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, harness.Send(1, "x"u8, [0, 0, 5])); // id past MaxAllocs (the ">28" rule)
        Assert.Equal(RESP_ERR_INVALID_RESOURCE_ID, harness.Send(1, "x"u8, [12345])); // unknown resource
        var create2d = new VirtioGpuResourceCreate2d { Hdr = { Type = (uint)CMD_RESOURCE_CREATE_2D }, ResourceId = 3, Format = (uint)VirtioGpuFormat.B8G8R8X8_UNORM, Width = 4, Height = 4 };
        Assert.Equal(RESP_OK_NODATA, harness.SubmitControl(create2d));
        Assert.Equal(RESP_ERR_INVALID_RESOURCE_ID, harness.Send(1, "x"u8, [3])); // a 2D resource without guest backing has nothing to share
        Assert.Equal(RESP_ERR_UNSPEC, harness.SubmitControl(BitConverter.GetBytes(WinsrvNumbers.Reconstructed.CmdConnect).Concat(new byte[20]).ToArray())); // truncated CONNECT
        // None of that reached the compositor, and the connection still works.
        Assert.Equal(RESP_OK_NODATA, harness.Send(1, "ok"u8));
        Assert.Equal("ok"u8.ToArray(), ScriptedCompositor.Read(peer, 2));
    }

    [Fact]
    public void AShortTxAndAMissingResponseBufferAreSurvived()
    {
        using var compositor = new ScriptedCompositor();
        using var harness = new WinsrvHarness(compositor.Path);
        Assert.Equal(RESP_OK_NODATA, harness.Connect(1));
        using var peer = compositor.Accept();
        var chain = harness.Tx.AddChain(TestSupport.MockBuffer.Readable(new byte[40]), TestSupport.MockBuffer.WritableSpace(24));
        harness.Device.QueueNotify(3);
        Assert.Equal(24u, Assert.Single(harness.Tx.TakeUsed()).Len);
        Assert.Equal((uint)RESP_ERR_UNSPEC, BitConverter.ToUInt32(harness.Tx.ReadBytes(chain.BufferAddresses[^1], 4)));
        harness.Send(1, "no reply wanted"u8, responseSize: 0);
        Assert.Equal("no reply wanted"u8.ToArray(), ScriptedCompositor.Read(peer, 15));
    }

    [Fact]
    public void ConnectTwiceWithOneIdIsRefusedAndTheFirstSurvives()
    {
        using var compositor = new ScriptedCompositor();
        using var harness = new WinsrvHarness(compositor.Path);
        Assert.Equal(RESP_OK_NODATA, harness.Connect(4));
        using var peer = compositor.Accept();
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, harness.Connect(4));
        Assert.Equal(1, harness.Device.Winsrv!.ConnectionCount);
        Assert.Equal(RESP_OK_NODATA, harness.Send(4, "still"u8));
        Assert.Equal("still"u8.ToArray(), ScriptedCompositor.Read(peer, 5));
        Assert.Equal(RESP_OK_NODATA, harness.Disconnect(4));
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, harness.Disconnect(4));
        Assert.Equal(0, peer.Receive(new byte[1])); // DISCONNECT closed the host socket
    }

    [Fact]
    public void UnreachableCompositorIsAnErrorAndTheDeviceKeepsServing()
    {
        using var harness = new WinsrvHarness("/nonexistent/minivmm/wayland-0");
        Assert.Equal(RESP_ERR_UNSPEC, harness.Connect(1));
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, harness.Send(1, "x"u8));
        var create2d = new VirtioGpuResourceCreate2d { Hdr = { Type = (uint)CMD_RESOURCE_CREATE_2D }, ResourceId = 1, Format = (uint)VirtioGpuFormat.B8G8R8X8_UNORM, Width = 4, Height = 4 };
        Assert.Equal(RESP_OK_NODATA, harness.SubmitControl(create2d));
        using var noSocket = new WinsrvHarness(CompositorSockets.None);
        Assert.Equal(RESP_ERR_UNSPEC, noSocket.Connect(1));
    }

    [Fact]
    public void NotNegotiatedMeansNoWinsrv()
    {
        using var compositor = new ScriptedCompositor();
        using var harness = new WinsrvHarness(compositor.Path, negotiate: false);
        Assert.Equal(RESP_ERR_UNSPEC, harness.Connect(1));
        harness.PostRx(1); // ignored: the queue was never taken
        Assert.Empty(harness.Rx.TakeUsed());
    }

    [Fact]
    public void DataWaitsWhileNoRxBufferIsPosted()
    {
        using var loop = new EventLoop("winsrv-test");
        loop.Start();
        using var compositor = new ScriptedCompositor();
        using var harness = new WinsrvHarness(compositor.Path, loop: loop);
        Assert.Equal(RESP_OK_NODATA, harness.Connect(2));
        using var peer = compositor.Accept();
        peer.Send("early"u8);
        Thread.Sleep(200);
        harness.Device.Winsrv!.Pump();
        Assert.Empty(harness.TakeRx());
        harness.PostRx(1, size: WinsrvTx.Size + 3); // room for 3 bytes: the rest waits for the next buffer
        var first = Assert.Single(harness.WaitRx(r => r.Count > 0));
        Assert.Equal("ear"u8.ToArray(), first.Data);
        Thread.Sleep(100);
        Assert.Empty(harness.TakeRx());
        harness.PostRx(1);
        Assert.Equal("ly"u8.ToArray(), Assert.Single(harness.WaitRx(r => r.Count > 0)).Data);
        Assert.Null(loop.Failure);
    }

    [Fact]
    public void TooSmallRxBufferIsReturnedUnused()
    {
        using var compositor = new ScriptedCompositor();
        using var harness = new WinsrvHarness(compositor.Path);
        harness.PostRx(1, size: WinsrvTx.Size);
        Assert.Equal(0u, Assert.Single(harness.TakeRx()).UsedLength);
    }

    [Fact]
    public void HangUpIsAnEmptyRxThenTheIdWaitsForDisconnect()
    {
        using var loop = new EventLoop("winsrv-test");
        loop.Start();
        using var compositor = new ScriptedCompositor();
        using var harness = new WinsrvHarness(compositor.Path, loop: loop);
        Assert.Equal(RESP_OK_NODATA, harness.Connect(5));
        var peer = compositor.Accept();
        harness.PostRx(4);
        peer.Shutdown(SocketShutdown.Both);
        peer.Dispose();
        var rx = Assert.Single(harness.WaitRx(r => r.Count > 0));
        Assert.Equal((5u, 0u, (uint)WinsrvTx.Size), (rx.Header.Fd, rx.Header.Len, rx.UsedLength));
        Thread.Sleep(100);
        Assert.Empty(harness.TakeRx()); // exactly one hang-up, and no spinning on the dead socket
        Assert.Equal(RESP_ERR_UNSPEC, harness.Send(5, "late"u8));
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, harness.Connect(5));
        Assert.Equal(RESP_OK_NODATA, harness.Disconnect(5));
        Assert.Equal(RESP_OK_NODATA, harness.Connect(5));
        Assert.Null(loop.Failure);
    }
}
