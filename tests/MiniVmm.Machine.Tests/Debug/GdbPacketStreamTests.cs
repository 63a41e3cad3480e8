using System.Text;
using MiniVmm.Machine.Debug;

namespace MiniVmm.Machine.Tests.Debug;

public sealed class GdbPacketStreamTests
{
    /// <summary>A stream that reads from a fixed input and records what is written.</summary>
    private sealed class Wire(string input) : Stream
    {
        private readonly MemoryStream _input = new(Encoding.Latin1.GetBytes(input));
        public MemoryStream Written { get; } = new();
        public string Output => Encoding.Latin1.GetString(Written.ToArray());
        public override int Read(byte[] buffer, int offset, int count) => _input.Read(buffer, offset, count);
        public override void Write(byte[] buffer, int offset, int count) => Written.Write(buffer, offset, count);
        public override void Flush() { }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    [Theory]
    [InlineData("OK", "$OK#9a")]
    [InlineData("", "$#00")]
    [InlineData("T05thread:01;", "$T05thread:01;#07")]
    public void FramesCarryTheModulo256Checksum(string payload, string frame) =>
        Assert.Equal(frame, Encoding.ASCII.GetString(GdbPacketStream.Frame(payload)));

    [Fact]
    public void ReservedBytesAreEscapedAndTheChecksumCoversTheEscapes()
    {
        // '}' then '#' ^ 0x20 = 0x03; checksum = '}' + 0x03 = 0x80.
        Assert.Equal("$}\u0003#80", Encoding.Latin1.GetString(GdbPacketStream.Frame("#")));
    }

    [Fact]
    public void AGoodPacketIsAcknowledgedAndUnescaped()
    {
        var wire = new Wire("+$X10,1:}]#2a");
        var input = new GdbPacketStream(wire).Read();
        Assert.Equal("X10,1:}", input?.Packet);
        Assert.Equal("+", wire.Output);
    }

    [Fact]
    public void ABadChecksumIsRefusedAndTheResentPacketRead()
    {
        var wire = new Wire("$g#00$g#67");
        var input = new GdbPacketStream(wire).Read();
        Assert.Equal("g", input?.Packet);
        Assert.Equal("-+", wire.Output);
    }

    [Fact]
    public void CtrlCIsAnInterruptAndTheEndOfTheStreamIsNull()
    {
        var packets = new GdbPacketStream(new Wire("\u0003"));
        Assert.True(packets.Read()?.IsInterrupt);
        Assert.Null(packets.Read());
    }

    [Fact]
    public void WriteResendsUntilAcknowledgedAndStopsWaitingInNoAckMode()
    {
        var wire = new Wire("-+");
        var packets = new GdbPacketStream(wire);
        packets.Write("OK");
        Assert.Equal("$OK#9a$OK#9a", wire.Output);

        var quiet = new Wire("");
        var noAck = new GdbPacketStream(quiet) { Acknowledging = false };
        noAck.Write("OK");
        Assert.Equal("$OK#9a", quiet.Output);
    }

    [Fact]
    public void InNoAckModeNothingIsAcknowledged()
    {
        var wire = new Wire("$g#67");
        var packets = new GdbPacketStream(wire) { Acknowledging = false };
        Assert.Equal("g", packets.Read()?.Packet);
        Assert.Equal("", wire.Output);
    }
}
