using System.Runtime.InteropServices;
using MiniVmm.TestSupport;

namespace MiniVmm.Virtio.Tests.Queue;

public sealed class ChainReaderWriterTests
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Pair
    {
        public uint A;
        public ulong B;
        public uint C;
    }

    [Fact]
    public void TryReadGathersAStructAcrossBuffers()
    {
        using var f = new QueueFixture();
        var bytes = new byte[24];
        BitConverter.TryWriteBytes(bytes.AsSpan(0), 0x11223344u);
        BitConverter.TryWriteBytes(bytes.AsSpan(8), 0x5566778899AABBCCUL);
        BitConverter.TryWriteBytes(bytes.AsSpan(16), 7u);
        f.Driver.AddChain(MockBuffer.Readable(bytes.AsSpan(0, 5)), MockBuffer.Readable(bytes.AsSpan(5, 10)),
            MockBuffer.Readable(bytes.AsSpan(15)));
        var reader = f.PopChain().CreateReader();
        Assert.Equal(24u, reader.Remaining);
        Assert.True(reader.TryRead(out Pair pair));
        Assert.Equal(0x11223344u, pair.A);
        Assert.Equal(0x5566778899AABBCCUL, pair.B);
        Assert.Equal(7u, pair.C);
        Assert.Equal(0u, reader.Remaining);
        Assert.Equal(24u, reader.BytesRead);
    }

    [Fact]
    public void ShortReadsConsumeNothing()
    {
        using var f = new QueueFixture();
        f.Driver.AddChain(MockBuffer.Readable([1, 2, 3]), MockBuffer.Readable([4, 5]));
        var reader = f.PopChain().CreateReader();
        Assert.False(reader.TryRead(out Pair _));
        Assert.False(reader.TryReadBytes(new byte[6]));
        Assert.Equal(5u, reader.Remaining);
        Assert.True(reader.TrySkip(2));
        var rest = new byte[3];
        Assert.True(reader.TryReadBytes(rest));
        Assert.Equal([3, 4, 5], rest);
        Assert.False(reader.TrySkip(1));
        Assert.True(reader.TryReadBytes([])); // an empty read always succeeds
    }

    [Fact]
    public void WriterScattersAcrossWritableBuffersAndCounts()
    {
        using var f = new QueueFixture();
        var added = f.Driver.AddChain(MockBuffer.Readable([0]), MockBuffer.WritableSpace(3), MockBuffer.WritableSpace(5));
        var writer = f.PopChain().CreateWriter();
        Assert.Equal(8u, writer.Remaining);
        Assert.True(writer.TryWriteBytes([1, 2]));
        Assert.True(writer.TryWrite(0x06050403u));
        Assert.Equal(6u, writer.BytesWritten);
        Assert.False(writer.TryWriteBytes([7, 8, 9])); // does not fit: nothing written
        Assert.Equal(6u, writer.BytesWritten);
        Assert.Equal([1, 2, 3], f.Driver.ReadBytes(added.BufferAddresses[1], 3));
        Assert.Equal([4, 5, 6, 0, 0], f.Driver.ReadBytes(added.BufferAddresses[2], 5));
    }

    [Fact]
    public void ChainWithoutWritableBuffersHasNoSpace()
    {
        using var f = new QueueFixture();
        f.Driver.AddChain(MockBuffer.Readable([1, 2]));
        var writer = f.PopChain().CreateWriter();
        Assert.Equal(0u, writer.Remaining);
        Assert.False(writer.TryWrite(1u));
    }
}
