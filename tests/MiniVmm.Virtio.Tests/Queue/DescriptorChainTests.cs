using MiniVmm.TestSupport;
using MiniVmm.Virtio.Queue;
using static MiniVmm.Virtio.Queue.VirtqConstants;

namespace MiniVmm.Virtio.Tests.Queue;

public sealed class DescriptorChainTests : IDisposable
{
    private readonly QueueFixture _f = new(size: 8);

    public void Dispose() => _f.Dispose();

    [Fact]
    public void ChainSplitsIntoReadableThenWritableBuffers()
    {
        var added = _f.Driver.AddChain(MockBuffer.Readable([1, 2, 3]), MockBuffer.Readable([4]), MockBuffer.WritableSpace(24));
        var chain = _f.PopChain();
        Assert.Equal(added.Head, chain.HeadIndex);
        Assert.Equal(2, chain.ReadableBuffers.Count);
        Assert.Single(chain.WritableBuffers);
        Assert.Equal(4u, chain.ReadableLength);
        Assert.Equal(24u, chain.WritableLength);
        Assert.Equal(added.BufferAddresses[2], chain.WritableBuffers[0].Address);
    }

    [Fact]
    public void IndirectTableIsFollowed()
    {
        _f.Driver.AddIndirectChain(MockBuffer.Readable([9, 8]), MockBuffer.Readable([7]), MockBuffer.WritableSpace(5));
        var chain = _f.PopChain();
        Assert.Equal(3u, chain.ReadableLength);
        Assert.Equal(5u, chain.WritableLength);
        var bytes = new byte[3];
        Assert.True(chain.CreateReader().TryReadBytes(bytes));
        Assert.Equal([9, 8, 7], bytes);
    }

    [Fact]
    public void ZeroLengthBuffersAreHarmless()
    {
        // A zero-length writable buffer before a readable one, even at a bogus address, is simply dropped.
        _f.Driver.AddChain(MockBuffer.Raw(0xDEAD_0000_0000, 0, writable: true), MockBuffer.Readable([5]),
            MockBuffer.Raw(0, 0, writable: false), MockBuffer.WritableSpace(4));
        var chain = _f.PopChain();
        Assert.Single(chain.ReadableBuffers);
        Assert.Single(chain.WritableBuffers);
    }

    [Fact]
    public void LoopingChainHitsTheTimeToLive()
    {
        _f.Driver.WriteDescriptor(0, 0x10000, 4, VIRTQ_DESC_F_NEXT, 1);
        _f.Driver.WriteDescriptor(1, 0x10000, 4, VIRTQ_DESC_F_NEXT, 0);
        _f.Driver.Publish(0);
        var error = _f.PopError();
        Assert.Equal(QueueErrorKind.ChainTooLong, error.Kind);
        Assert.Contains("loop", error.Message);
    }

    [Fact]
    public void SelfLoopInsideAnIndirectTableHitsItsTimeToLive()
    {
        var table = _f.Driver.Allocate(32);
        _f.Driver.WriteDescriptorAt(table, 0x10000, 4, VIRTQ_DESC_F_NEXT, 0);
        _f.Driver.WriteDescriptor(0, table.Value, 32, VIRTQ_DESC_F_INDIRECT, 0);
        _f.Driver.Publish(0);
        Assert.Equal(QueueErrorKind.ChainTooLong, _f.PopError().Kind);
    }

    [Fact]
    public void NextBeyondTheTableIsRejected()
    {
        _f.Driver.WriteDescriptor(0, 0x10000, 4, VIRTQ_DESC_F_NEXT, 8);
        _f.Driver.Publish(0);
        var result = _f.Queue.TryPop();
        Assert.Equal(QueueErrorKind.NextOutOfRange, result.Error.Kind);
        Assert.Equal((ushort)0, result.Head); // the device can still return the head with len 0
    }

    [Fact]
    public void HeadBeyondTheQueueIsRejectedAndSkipped()
    {
        _f.Driver.WriteAvailEntry(0, 8);
        _f.Driver.AvailIdx = 1;
        var result = _f.Queue.TryPop();
        Assert.Equal(QueueErrorKind.HeadOutOfRange, result.Error.Kind);
        Assert.Null(result.Head);
        _f.Driver.AddChain(MockBuffer.Readable([1]));
        Assert.Equal(1u, _f.PopChain().ReadableLength);
    }

    [Fact]
    public void ReadableAfterWritableIsRejected()
    {
        _f.Driver.AddChain(MockBuffer.WritableSpace(4), MockBuffer.Readable([1]));
        Assert.Equal(QueueErrorKind.ReadableAfterWritable, _f.PopError().Kind);
    }

    [Theory]
    [InlineData(0x100000UL, 4u)]          // just past the end of RAM
    [InlineData(0xFFF00UL, 0x200u)]       // starts inside, runs past the end
    [InlineData(0x1000UL, 0xFFFF_FFFFu)]  // huge length
    [InlineData(0xFFFF_FFFF_FFFF_FFFFUL, 2u)] // wraps
    public void BuffersOutsideMemoryAreRejected(ulong address, uint length)
    {
        _f.Driver.AddChain(MockBuffer.Raw(address, length, writable: false));
        Assert.Equal(QueueErrorKind.BufferOutOfMemory, _f.PopError().Kind);
    }

    [Fact]
    public void TotalLengthOver4GiBIsRejected()
    {
        // 4097 buffers that each cover all 1 MiB of RAM: every one is valid, their sum is not.
        const int entries = 4097;
        var table = _f.Driver.Allocate(16 * entries);
        for (int i = 0; i < entries; i++)
            _f.Driver.WriteDescriptorAt(table.Offset(16UL * (uint)i), 0, 1 << 20,
                i + 1 < entries ? VIRTQ_DESC_F_NEXT : (ushort)0, (ushort)(i + 1));
        _f.Driver.WriteDescriptor(0, table.Value, 16 * entries, VIRTQ_DESC_F_INDIRECT, 0);
        _f.Driver.Publish(0);
        Assert.Equal(QueueErrorKind.TotalLengthOverflow, _f.PopError().Kind);
    }

    [Fact]
    public void NestedIndirectIsRejected()
    {
        var inner = _f.Driver.Allocate(16);
        var outer = _f.Driver.Allocate(16);
        _f.Driver.WriteDescriptorAt(inner, 0x10000, 4, 0, 0);
        _f.Driver.WriteDescriptorAt(outer, inner.Value, 16, VIRTQ_DESC_F_INDIRECT, 0);
        _f.Driver.WriteDescriptor(0, outer.Value, 16, VIRTQ_DESC_F_INDIRECT, 0);
        _f.Driver.Publish(0);
        Assert.Equal(QueueErrorKind.NestedIndirect, _f.PopError().Kind);
    }

    [Theory]
    [InlineData(VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 16u, QueueErrorKind.IndirectWithNext)]
    [InlineData(VIRTQ_DESC_F_INDIRECT, 0u, QueueErrorKind.IndirectBadLength)]
    [InlineData(VIRTQ_DESC_F_INDIRECT, 24u, QueueErrorKind.IndirectBadLength)]
    [InlineData(VIRTQ_DESC_F_INDIRECT, 16u * 32769, QueueErrorKind.IndirectTooLarge)]
    public void BadIndirectDescriptorsAreRejected(ushort flags, uint length, QueueErrorKind expected)
    {
        _f.Driver.WriteDescriptor(0, 0x10000, length, flags, 1);
        _f.Driver.Publish(0);
        Assert.Equal(expected, _f.PopError().Kind);
    }

    [Fact]
    public void IndirectTableOutsideMemoryIsRejected()
    {
        _f.Driver.WriteDescriptor(0, 0xFFFF0, 64, VIRTQ_DESC_F_INDIRECT, 0);
        _f.Driver.Publish(0);
        Assert.Equal(QueueErrorKind.IndirectOutOfMemory, _f.PopError().Kind);
    }

    [Fact]
    public void WalkerReportsInIndirectTable()
    {
        _f.Driver.AddIndirectChain(MockBuffer.Readable([1]));
        var walker = new DescriptorChainWalker(_f.Memory, _f.Driver.DescriptorTable, 8, 0);
        Assert.True(walker.TryNext(out var desc, out var error));
        Assert.False(error.IsError);
        Assert.True(walker.InIndirectTable);
        Assert.Equal(1u, desc.Len);
        Assert.False(walker.TryNext(out _, out error));
        Assert.False(error.IsError);
    }
}
