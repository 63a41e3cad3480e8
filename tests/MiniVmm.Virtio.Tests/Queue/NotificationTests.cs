using MiniVmm.TestSupport;
using MiniVmm.Virtio.Queue;

namespace MiniVmm.Virtio.Tests.Queue;

public sealed class NotificationTests
{
    private static void Complete(QueueFixture f, int count)
    {
        for (int i = 0; i < count; i++)
        {
            f.Driver.AddChain(MockBuffer.Readable([1]));
            Assert.True(f.Queue.AddUsed(f.PopChain().HeadIndex, 0));
        }
    }

    [Fact]
    public void WithoutEventIdxTheDriverFlagDecides()
    {
        using var f = new QueueFixture();
        Complete(f, 1);
        Assert.True(f.Queue.NeedsNotification());
        f.Driver.AvailFlags = VirtqConstants.VIRTQ_AVAIL_F_NO_INTERRUPT;
        Complete(f, 1);
        Assert.False(f.Queue.NeedsNotification());
    }

    [Fact]
    public void WithEventIdxUsedEventDecides()
    {
        using var f = new QueueFixture(eventIndex: true);
        f.Driver.AvailFlags = VirtqConstants.VIRTQ_AVAIL_F_NO_INTERRUPT; // ignored with EVENT_IDX
        Complete(f, 1);
        Assert.True(f.Queue.NeedsNotification()); // the first decision always interrupts

        // The driver wants an interrupt once used->idx passes 3 (i.e. after the 4th element).
        f.Driver.UsedEvent = 3;
        Complete(f, 1); // used idx 2
        Assert.False(f.Queue.NeedsNotification());
        Complete(f, 2); // used idx 4: crossed 3
        Assert.True(f.Queue.NeedsNotification());
        Complete(f, 1); // used idx 5: event 3 is behind
        Assert.False(f.Queue.NeedsNotification());
    }

    [Fact]
    public void AvailEventIsPublishedWhenTheDeviceRunsDry()
    {
        using var f = new QueueFixture(eventIndex: true);
        f.Driver.AddChain(MockBuffer.Readable([1]));
        f.Driver.AddChain(MockBuffer.Readable([1]));
        f.PopChain();
        f.PopChain();
        Assert.Equal(PopStatus.Empty, f.Queue.TryPop().Status);
        Assert.Equal(2, f.Driver.AvailEvent);
    }

    [Theory]
    [InlineData(0, 1, 0, true)]
    [InlineData(0, 2, 1, false)]
    [InlineData(5, 10, 4, true)]
    [InlineData(5, 10, 6, false)]
    [InlineData(65535, 2, 65534, true)] // across the u16 wrap
    [InlineData(1, 1, 1, false)]        // nothing new
    public void NeedEventMatchesTheSpecFormula(int eventIdx, int newIdx, int oldIdx, bool expected) =>
        Assert.Equal(expected, Virtqueue.NeedEvent((ushort)eventIdx, (ushort)newIdx, (ushort)oldIdx));
}
