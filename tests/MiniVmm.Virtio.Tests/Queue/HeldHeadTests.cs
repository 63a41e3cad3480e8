using MiniVmm.TestSupport;
using MiniVmm.Virtio.Queue;

namespace MiniVmm.Virtio.Tests.Queue;

/// <summary>Issue 11 item 3: the queue knows which heads the device holds and refuses one published again while held.</summary>
public sealed class HeldHeadTests
{
    [Fact]
    public void AHeadPublishedAgainWhileHeldIsAnErrorWithoutAChain()
    {
        using var f = new QueueFixture(size: 8);
        var added = f.Driver.AddChain(MockBuffer.WritableSpace(8));
        var chain = f.PopChain();
        Assert.Equal(1, f.Queue.HeldCount);

        f.Driver.Publish(added.Head); // the driver does not own it
        var pop = f.Queue.TryPop();
        Assert.Equal(PopStatus.Error, pop.Status);
        Assert.Equal(QueueErrorKind.HeadInUse, pop.Error.Kind);
        Assert.Null(pop.Head); // not for the device to return: it returns the chain it holds, once
        Assert.Null(pop.Chain);

        Assert.True(f.Queue.AddUsed(chain.HeadIndex, 0));
        Assert.Equal(0, f.Queue.HeldCount);
        f.Driver.Publish(added.Head); // returned: now the driver owns it again
        Assert.Equal(added.Head, f.PopChain().HeadIndex);
    }

    [Fact]
    public void TheDeviceNeverHoldsMoreThanTheQueueSize()
    {
        using var f = new QueueFixture(size: 4);
        var heads = Enumerable.Range(0, 4).Select(_ => f.Driver.AddChain(MockBuffer.WritableSpace(8)).Head).ToList();
        for (int i = 0; i < 4; i++)
            f.PopChain();
        for (int round = 0; round < 1000; round++)
        {
            f.Driver.Publish(heads[round % 4]);
            Assert.Equal(QueueErrorKind.HeadInUse, f.PopError().Kind);
        }
        Assert.Equal(4, f.Queue.HeldCount);
    }

    [Fact]
    public void AHeadWhoseChainIsMalformedIsHeldUntilReturned()
    {
        using var f = new QueueFixture(size: 4);
        f.Driver.WriteDescriptor(0, 0xFFFF_FFFF_0000, 16, 0, 0); // outside guest memory
        f.Driver.Publish(0);
        var pop = f.Queue.TryPop();
        Assert.Equal((PopStatus.Error, (ushort?)0), (pop.Status, pop.Head));
        Assert.True(f.Queue.AddUsed(0, 0)); // the device returns it with len 0, as before
        Assert.Equal(0, f.Queue.HeldCount);
    }
}
