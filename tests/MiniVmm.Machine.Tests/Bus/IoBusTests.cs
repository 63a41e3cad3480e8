using MiniVmm.Machine.Bus;
using MiniVmm.Machine.Tests.Devices;

namespace MiniVmm.Machine.Tests.Bus;

public sealed class IoBusTests
{
    private sealed class Probe : IBusDevice
    {
        public List<(ulong Offset, int Length)> Reads { get; } = [];
        public List<(ulong Offset, byte[] Data)> Writes { get; } = [];

        public void Read(ulong offset, Span<byte> data)
        {
            Reads.Add((offset, data.Length));
            data.Fill(0x42);
        }

        public void Write(ulong offset, ReadOnlySpan<byte> data) => Writes.Add((offset, data.ToArray()));
    }

    private readonly IoBus _bus = new("pio");

    [Fact]
    public void DispatchesWithOffsetsRelativeToTheBase()
    {
        var probe = new Probe();
        _bus.Register(0x3F8, 8, probe);
        Span<byte> data = stackalloc byte[1];
        Assert.True(_bus.Read(0x3FD, data));
        Assert.Equal(0x42, data[0]);
        Assert.True(_bus.Write(0x3F8, [0x41]));
        Assert.Equal([(5UL, 1)], probe.Reads);
        Assert.Equal(0UL, Assert.Single(probe.Writes).Offset);
    }

    [Fact]
    public void UnclaimedReadsAreAllOnesAndWritesDropped()
    {
        Span<byte> data = stackalloc byte[4];
        Assert.False(_bus.Read(0x2F8, data));
        Assert.Equal(0xFFFF_FFFFu, BitConverter.ToUInt32(data));
        Assert.False(_bus.Write(0x2F8, [1]));
    }

    [Fact]
    public void StraddlingAccessIsNotDispatched()
    {
        var probe = new Probe();
        _bus.Register(0x60, 1, probe);
        Span<byte> data = stackalloc byte[2];
        Assert.False(_bus.Read(0x60, data));
        Assert.Equal(0xFFFF, BitConverter.ToUInt16(data));
        Assert.False(_bus.Write(0x5F, [1, 2]));
        Assert.Empty(probe.Reads);
        Assert.Empty(probe.Writes);
    }

    [Fact]
    public void AccessThatFitsAtTheEndIsDispatched()
    {
        var probe = new Probe();
        _bus.Register(0x501, 4, probe);
        Assert.True(_bus.Write(0x501, [1, 0, 0, 0]));
        Assert.True(_bus.Write(0x503, [1, 0]));
        Assert.False(_bus.Write(0x503, [1, 0, 0, 0]));
    }

    [Theory]
    [InlineData(0x3F8UL, 8UL)]
    [InlineData(0x3F0UL, 9UL)]
    [InlineData(0x3FFUL, 1UL)]
    [InlineData(0x3F0UL, 0x20UL)]
    public void OverlappingRangesAreRejected(ulong baseAddress, ulong length)
    {
        _bus.Register(0x3F8, 8, new Probe());
        Assert.Throws<ArgumentException>(() => _bus.Register(baseAddress, length, new Probe()));
    }

    [Fact]
    public void AdjacentRangesAreAccepted()
    {
        var low = new Probe();
        var high = new Probe();
        _bus.Register(0x60, 1, low);
        _bus.Register(0x61, 1, high);
        _bus.Write(0x61, [9]);
        Assert.Empty(low.Writes);
        Assert.Single(high.Writes);
    }

    [Theory]
    [InlineData(0xFFFF_FFFF_FFFF_FFF8UL, 0x10UL)]
    [InlineData(0xFFFF_FFFF_FFFF_FFFFUL, 1UL)]
    [InlineData(0x1000UL, 0UL)]
    public void EmptyOrWrappingRangesAreRejected(ulong baseAddress, ulong length) =>
        Assert.Throws<ArgumentException>(() => _bus.Register(baseAddress, length, new Probe()));

    [Fact]
    public void UnregisterFreesTheRange()
    {
        var probe = new Probe();
        _bus.Register(0x80, 1, probe);
        _bus.Unregister(probe);
        Assert.False(_bus.Write(0x80, [0]));
        _bus.Register(0x80, 1, new Probe());
    }

    [Fact]
    public void FindsTheRightDeviceAmongMany()
    {
        var devices = Enumerable.Range(0, 16).Select(_ => new Probe()).ToArray();
        for (int i = 0; i < devices.Length; i++)
            _bus.Register((ulong)(0x1000 + i * 0x10), 8, devices[(i * 7) % 16]);
        for (int i = 0; i < devices.Length; i++)
            Assert.True(_bus.Write((ulong)(0x1000 + i * 0x10 + 3), [(byte)i]));
        Assert.False(_bus.Write(0x1008, [0])); // the gap between two ranges
        for (int i = 0; i < devices.Length; i++)
            Assert.Equal((byte)i, Assert.Single(devices[(i * 7) % 16].Writes).Data[0]);
    }

    [Fact]
    public void UartBehindTheBusAnswersLsr()
    {
        var uart = new MiniVmm.Machine.Devices.Serial16550(new FakeInterruptLine(), new RecordingOutput());
        _bus.Register(0x3F8, 8, uart);
        Span<byte> data = stackalloc byte[1];
        _bus.Read(0x3FD, data);
        Assert.Equal(0x60, data[0]);
    }
}
