using System.Diagnostics;
using MiniVmm.Sys;
using MiniVmm.Virtio;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Winsrv;

/// <summary>TX to a compositor that does not read answers at once; the event loop delivers the bytes later, in order.</summary>
[Collection("Winsrv")]
public sealed class WinsrvQueueingTests
{
    [Fact]
    public void TxToACompositorThatDoesNotReadDoesNotStallTheDevice()
    {
        using var loop = new EventLoop("winsrv-queue");
        loop.Start();
        using var compositor = new ScriptedCompositor();
        using var harness = new WinsrvHarness(compositor.Path, loop: loop);
        Assert.Equal(RESP_OK_NODATA, harness.Connect(1));
        using var peer = compositor.Accept();

        var sent = new List<byte>();
        var chunk = new byte[4000];
        var total = Stopwatch.StartNew();
        for (var i = 0; i < 512; i++) // 2 MB, far past the socket's buffer
        {
            new Random(i).NextBytes(chunk);
            var clock = Stopwatch.StartNew();
            Assert.Equal(RESP_OK_NODATA, harness.Send(1, chunk));
            Assert.True(clock.ElapsedMilliseconds < 200, $"TX {i} took {clock.ElapsedMilliseconds} ms");
            sent.AddRange(chunk);
        }
        Assert.True(total.ElapsedMilliseconds < 5000, $"512 TXs took {total.ElapsedMilliseconds} ms");
        Assert.Equal(sent, ScriptedCompositor.Read(peer, sent.Count));
        Assert.Null(loop.Failure);
    }
}
