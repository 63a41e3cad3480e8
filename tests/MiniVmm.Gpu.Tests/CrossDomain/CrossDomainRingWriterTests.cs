using System.Buffers.Binary;

namespace MiniVmm.Gpu.Tests.CrossDomain;

public sealed class CrossDomainRingWriterTests
{
    [Fact]
    public void ReceiveLaysOutIdentifiersAndData()
    {
        var ring = new byte[CrossDomainConstants.RingSize];
        (uint, uint, ulong)[] ids = [(3, 1, 4096), (1, 4, 0)];
        Assert.Equal(CrossDomainRingError.None, CrossDomainRingWriter.WriteReceive(ring, "hello"u8, ids));
        var (parsedIds, data) = UpstreamCrossDomainWire.ParseReceive(ring);
        Assert.Equal(352 + 5, BinaryPrimitives.ReadUInt16LittleEndian(ring.AsSpan(2))); // cmd_size
        Assert.Equal([(3u, 1u, 4096u), (1u, 4u, 0u)], parsedIds);
        Assert.Equal("hello"u8.ToArray(), data);
    }

    [Fact]
    public void HangUpIsAnEmptyReceive()
    {
        var ring = new byte[CrossDomainConstants.RingSize];
        ring.AsSpan().Fill(0xEE);
        Assert.Equal(CrossDomainRingError.None, CrossDomainRingWriter.WriteHangUp(ring));
        var (ids, data) = UpstreamCrossDomainWire.ParseReceive(ring);
        Assert.Empty(ids);
        Assert.Empty(data);
    }

    [Fact]
    public void ReadCarriesPipeIdAndHangUp()
    {
        var ring = new byte[CrossDomainConstants.RingSize];
        Assert.Equal(CrossDomainRingError.None, CrossDomainRingWriter.WriteRead(ring, 0x80000001, "xy"u8, hangUp: true));
        var (pipeId, hangUp, data) = UpstreamCrossDomainWire.ParseRead(ring);
        Assert.Equal((0x80000001u, true), (pipeId, hangUp));
        Assert.Equal("xy"u8.ToArray(), data);
    }

    [Fact]
    public void DataLongerThanTheRingIsRefusedAndNothingIsWritten()
    {
        var ring = new byte[CrossDomainConstants.RingSize];
        var data = new byte[CrossDomainConstants.MaxSendReceiveData + 1];
        Assert.Equal(CrossDomainRingError.RingTooSmall, CrossDomainRingWriter.WriteReceive(ring, data, default));
        Assert.Equal(CrossDomainRingError.None, CrossDomainRingWriter.WriteReceive(ring, data.AsSpan(1), default));
        Assert.Equal(CrossDomainRingError.RingTooSmall, CrossDomainRingWriter.WriteRead(ring, 1, new byte[4073], false));
        Assert.Equal(CrossDomainRingError.RingTooSmall, CrossDomainRingWriter.WriteReceive(new byte[100], default, default));
        Assert.Equal(CrossDomainRingError.RingTooSmall, CrossDomainRingWriter.WriteImageRequirements(new byte[63], default));
        var untouched = new byte[200];
        CrossDomainRingWriter.WriteRead(untouched, 1, new byte[177], false);
        Assert.All(untouched, b => Assert.Equal(0, b));
    }

    [Fact]
    public void IdentifierLimitsAreChecked()
    {
        var ring = new byte[CrossDomainConstants.RingSize];
        var many = new (uint, uint, ulong)[29];
        Assert.Equal(CrossDomainRingError.TooManyIdentifiers, CrossDomainRingWriter.WriteReceive(ring, default, many));
        Assert.Equal(CrossDomainRingError.SizeTooLarge, CrossDomainRingWriter.WriteReceive(ring, default, [(1, 1, 1ul << 32)]));
    }
}
