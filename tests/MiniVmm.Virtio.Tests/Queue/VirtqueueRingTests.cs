using MiniVmm.TestSupport;
using MiniVmm.Virtio.Queue;

namespace MiniVmm.Virtio.Tests.Queue;

public sealed class VirtqueueRingTests
{
    [Fact]
    public void EmptyQueuePopsNothing()
    {
        using var f = new QueueFixture();
        Assert.Equal(PopStatus.Empty, f.Queue.TryPop().Status);
    }

    [Fact]
    public void AddUsedPublishesElementThenIndex()
    {
        using var f = new QueueFixture();
        var added = f.Driver.AddChain(MockBuffer.Readable([1]), MockBuffer.WritableSpace(8));
        var chain = f.PopChain();
        Assert.True(f.Queue.AddUsed(chain.HeadIndex, 8));
        var used = Assert.Single(f.Driver.TakeUsed());
        Assert.Equal(added.Head, (ushort)used.Id);
        Assert.Equal(8u, used.Len);
        Assert.Equal(1, f.Driver.UsedIdx);
    }

    [Fact]
    public void IndicesWrapAroundTheRing()
    {
        using var f = new QueueFixture(size: 4);
        for (int round = 0; round < 11; round++)
        {
            f.Driver.AddChain(MockBuffer.Readable([(byte)round]));
            var chain = f.PopChain();
            var data = new byte[1];
            Assert.True(chain.CreateReader().TryReadBytes(data));
            Assert.Equal((byte)round, data[0]);
            Assert.True(f.Queue.AddUsed(chain.HeadIndex, 0));
            Assert.Single(f.Driver.TakeUsed());
        }
        Assert.Equal(11, f.Queue.NextUsed);
        Assert.Equal(11, f.Queue.NextAvailable);
    }

    [Fact]
    public void IndicesWrapAround65536()
    {
        using var f = new QueueFixture(size: 4);
        // Start both sides near the u16 wrap by letting the driver run ahead in steps of the queue size.
        for (int i = 0; i < 65540; i++)
        {
            f.Driver.AddChain(MockBuffer.Raw(0x10000, 1, false));
            var result = f.Queue.TryPop();
            Assert.Equal(PopStatus.Chain, result.Status);
            f.Queue.AddUsed(result.Chain!.HeadIndex, 0);
        }
        Assert.Equal((ushort)4, f.Queue.NextAvailable);
        Assert.Equal((ushort)4, f.Driver.UsedIdx);
    }

    [Fact]
    public void AvailIndexTooFarAheadIsADriverError()
    {
        using var f = new QueueFixture(size: 8);
        f.Driver.AvailIdx = 9;
        var result = f.Queue.TryPop();
        Assert.Equal(QueueErrorKind.AvailIndexAhead, result.Error.Kind);
        Assert.Contains("more than the queue size 8", result.Error.Message);
        Assert.Equal(0, f.Queue.NextAvailable);

        // Once the driver's index makes sense again the queue serves it.
        f.Driver.AvailIdx = 0;
        f.Driver.AddChain(MockBuffer.Readable([1]));
        Assert.Equal(1u, f.PopChain().ReadableLength);
    }

    [Fact]
    public void AvailIndexIsReadOncePerBatch()
    {
        using var f = new QueueFixture(size: 8);
        f.Driver.AddChain(MockBuffer.Readable([1]));
        f.Driver.AddChain(MockBuffer.Readable([2, 2]));
        Assert.Equal(1u, f.PopChain().ReadableLength);
        // A bogus index written mid-batch is not seen until the batch the device read is consumed.
        f.Driver.AvailIdx = 200;
        Assert.Equal(2u, f.PopChain().ReadableLength);
        Assert.Equal(QueueErrorKind.AvailIndexAhead, f.PopError().Kind);
    }

    [Fact]
    public void AddUsedWithAHeadBeyondTheQueueIsAHostBug()
    {
        using var f = new QueueFixture(size: 8);
        Assert.Throws<ArgumentOutOfRangeException>(() => f.Queue.AddUsed(8, 0));
    }
}
