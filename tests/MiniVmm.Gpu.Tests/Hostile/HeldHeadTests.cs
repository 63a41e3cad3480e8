using MiniVmm.Gpu.Tests.Winsrv;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Hostile;

/// <summary>
/// Issue 11 item 3: a driver that republishes a head the device still holds. The queue refuses it with
/// DEVICE_NEEDS_RESET, so neither the deferred fences nor the posted winsrv RX buffers can grow past the queue size.
/// </summary>
[Collection(HostileCollection.Name)]
public sealed class HeldHeadTests : CompositorContextTests
{
    private const int Republished = 100_000;

    [Fact]
    public void AFencedSubmitRepublishedWhileItsPollWaitsIsRefused()
    {
        using var peer = OpenContext();
        var poll = H.StartSubmit3D(1, GpuHarness.XdPoll(), fence: 7, ring: 1);
        var later = H.StartSubmit3D(1, [], fence: 8, ring: 1); // held behind the POLL
        var bounds = HostBounds.Take();

        Republish(H.Control, later.Head, () => H.Device.QueueNotify(0));

        Assert.Contains(H.Interrupt.NeedsResetReasons, r => r.Contains("still holds", StringComparison.Ordinal));
        bounds.AssertWithin(4L << 20);
        peer.Send("x"u8.ToArray());
        Assert.Equal([7UL, 8UL], H.WaitUsed(Wait, poll, later).Select(d => d.FenceId)); // each exactly once
        Thread.Sleep(50);
        Assert.Empty(H.Control.TakeUsed());
        H.ResetAndReactivate(); // as the driver must after NEEDS_RESET
        HostBounds.AssertServes(H);
    }

    [Fact]
    public void AWinsrvRxBufferRepublishedWhileParkedIsRefused()
    {
        using var h = new WinsrvHarness(CompositorSockets.None);
        h.PostRx(1);
        const ushort head = 0; // the mock lays its first chain out from descriptor 0
        var bounds = HostBounds.Take();

        Republish(h.Rx, head, () => h.Device.QueueNotify(h.Options.WinsrvNumbers.RxQueueIndex));

        Assert.Contains(h.Interrupt.NeedsResetReasons, r => r.Contains("still holds", StringComparison.Ordinal));
        bounds.AssertWithin(4L << 20);
        Assert.Empty(h.Rx.TakeUsed());
        Assert.Equal(RESP_OK_DISPLAY_INFO, h.SubmitControl(GpuHarness.Hdr(CMD_GET_DISPLAY_INFO), 408));
    }

    [Fact]
    public void WaitingPollsNeverOutnumberTheLargestQueue()
    {
        using var peer = OpenContext();
        const int Limit = 32768; // each waiting POLL stands for a fenced chain the device holds
        var polls = Enumerable.Repeat(GpuHarness.XdPoll(), Limit + 1).SelectMany(p => p).ToArray();

        Assert.NotEqual(RESP_OK_NODATA, H.Submit3D(1, polls).Type);
        Assert.InRange(H.Device.Backend.GetCrossDomainContext(1)!.PendingPolls, 0, Limit);
        HostBounds.AssertServes(H);
    }

    /// <summary>Publishes <paramref name="head"/> again and again, notifying before the ring could run ahead.</summary>
    private static void Republish(TestSupport.MockSplitQueue queue, ushort head, Action notify)
    {
        for (int i = 1; i <= Republished; i++)
        {
            queue.Publish(head);
            if (i % (queue.Size / 2) == 0)
                notify();
        }
        notify();
    }
}
