using System.Net.Sockets;
using MiniVmm.Gpu.CrossDomain;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>Runs alone, after the parallel tests, so process-wide fd and RSS numbers are this test's own.</summary>
[CollectionDefinition("Soak", DisableParallelization = true)]
public sealed class SoakCollection;

/// <summary>
/// 1000 cross-domain context lifetimes (create, INIT, a RECEIVE, a SEND with a blob fd, destroy with a POLL waiting,
/// tracing on) against a listening socket that plays the compositor: fds and RSS must stay roughly flat.
/// </summary>
[Collection("Soak")]
public sealed class CrossDomainSoakTests : StandInCompositorTests
{
    private const int Cycles = 1000;
    private static long _traceLines; // one test, in a collection that runs alone

    public CrossDomainSoakTests()
        : base(options => options with { CrossDomainTrace = _ => Interlocked.Increment(ref _traceLines) }, traced: false)
    {
    }

    [Fact]
    public void AThousandContextLifetimesKeepFdsAndRssFlat()
    {
        Assert.Equal(RESP_OK_NODATA, H.CreateContext(99).Type);
        H.CreateRing(2, 99);
        H.CreateRing(3, 99);
        for (uint i = 0; i < 50; i++)
            Cycle(i);
        var (fdsBefore, rssBefore) = Measure();
        for (uint i = 0; i < Cycles; i++)
            Cycle(i);
        var (fdsAfter, rssAfter) = Measure();
        // One leaked fd per cycle would be +1000, one leaked 4 KiB ring copy or blob page +4 MiB: allow far less.
        Assert.True(fdsAfter - fdsBefore < 16, $"{fdsBefore} fds before {Cycles} cycles, {fdsAfter} after");
        Assert.True(rssAfter - rssBefore < 48L << 20, $"RSS {rssBefore >> 10} KiB before {Cycles} cycles, {rssAfter >> 10} KiB after");
        Assert.True(Interlocked.Read(ref _traceLines) > Cycles * 4, "the xdomain tracer was not called");
    }

    private void Cycle(uint i)
    {
        uint ctx = 1 + i % 5;
        Assert.Equal(RESP_OK_NODATA, H.CreateContext(ctx).Type);
        Assert.Equal(RESP_OK_NODATA, H.CtxResource(CMD_CTX_ATTACH_RESOURCE, ctx, 2).Type);
        Assert.Equal(RESP_OK_NODATA, H.CtxResource(CMD_CTX_ATTACH_RESOURCE, ctx, 3).Type);
        Assert.Equal(RESP_OK_NODATA, H.Submit3D(ctx, GpuHarness.XdInit(2, 3)).Type);
        Assert.Equal(RESP_OK_NODATA, H.CreateQueriedHostBlob(50, 4096, ctxId: ctx, queryRing: 2).Type);
        using (var peer = Listener.Accept())
        {
            peer.Send(new byte[] { 1, 0, 0, 0, 0, 0, 8, 0 }); // wl_display@1 event 0, 8 bytes: one whole message
            var poll = H.StartSubmit3D(ctx, GpuHarness.XdPoll(), fence: 2 * i + 1, ring: 1);
            H.WaitUsed(Wait, poll);
            Assert.Equal(8, GpuHarness.ParseReceive(H.ReadRing(3)).Data.Length);
            var waiting = H.StartSubmit3D(ctx, GpuHarness.XdPoll(), fence: 2 * i + 2, ring: 1);
            Assert.Equal(RESP_OK_NODATA, H.Submit3D(ctx, GpuHarness.XdSend(new byte[] { 1, 0, 0, 0, 0, 0, 12, 0, 3, 0, 0, 0 }, (50u, (uint)CrossDomainIdType.VirtgpuBlob))).Type);
            H.WaitUsed(Wait, waiting, H.Start(GpuHarness.Hdr(CMD_CTX_DESTROY, ctxId: ctx)));
        }
        Assert.Equal(RESP_OK_NODATA, H.Unref(50).Type);
    }

    private static (int Fds, long Rss) Measure()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        var rss = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return (Directory.GetFiles("/proc/self/fd").Length, long.Parse(rss.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) << 10);
    }
}
