using System.Buffers;
using MiniVmm.Machine.Console;

namespace MiniVmm.Machine.Tests.Console;

public sealed class ConsoleEscapeParserTests
{
    private readonly ConsoleEscapeParser _parser = new();
    private readonly ArrayBufferWriter<byte> _toGuest = new();

    private bool Feed(params byte[] input) => _parser.Process(input, _toGuest);

    [Fact]
    public void PlainBytesPassThrough()
    {
        Assert.False(Feed("ls -l\r"u8.ToArray()));
        Assert.Equal("ls -l\r"u8.ToArray(), _toGuest.WrittenSpan.ToArray());
    }

    [Fact]
    public void CtrlAXQuits()
    {
        Assert.True(Feed(0x61, 0x01, (byte)'x'));
        Assert.Equal([0x61], _toGuest.WrittenSpan.ToArray());
    }

    [Fact]
    public void BytesAfterQuitAreNotForwarded()
    {
        Assert.True(Feed(0x01, (byte)'x', (byte)'y'));
        Assert.Empty(_toGuest.WrittenSpan.ToArray());
    }

    [Fact]
    public void CapitalXIsNotQuit()
    {
        Assert.False(Feed(0x01, (byte)'X'));
        Assert.Equal([0x01, (byte)'X'], _toGuest.WrittenSpan.ToArray());
    }

    [Fact]
    public void CtrlACtrlASendsOneCtrlA()
    {
        Assert.False(Feed(0x01, 0x01));
        Assert.Equal([0x01], _toGuest.WrittenSpan.ToArray());
    }

    [Fact]
    public void CtrlACtrlAThenXSendsCtrlAAndX()
    {
        Assert.False(Feed(0x01, 0x01, (byte)'x'));
        Assert.Equal([0x01, (byte)'x'], _toGuest.WrittenSpan.ToArray());
    }

    [Theory]
    [InlineData((byte)'a')]
    [InlineData((byte)'c')]
    [InlineData((byte)'\r')]
    [InlineData((byte)0x03)]
    [InlineData((byte)0x00)]
    public void CtrlAThenOtherSendsBoth(byte other)
    {
        Assert.False(Feed(0x01, other));
        Assert.Equal([0x01, other], _toGuest.WrittenSpan.ToArray());
    }

    [Fact]
    public void EscapeSplitAcrossReadsIsRemembered()
    {
        Assert.False(Feed((byte)'a', 0x01));
        Assert.Equal([(byte)'a'], _toGuest.WrittenSpan.ToArray());
        Assert.True(Feed((byte)'x'));
    }

    [Fact]
    public void EscapeSplitAcrossReadsThenOtherSendsBoth()
    {
        Assert.False(Feed(0x01));
        Assert.False(Feed((byte)'b'));
        Assert.Equal([0x01, (byte)'b'], _toGuest.WrittenSpan.ToArray());
    }

    [Fact]
    public void LoneXIsJustX()
    {
        Assert.False(Feed((byte)'x'));
        Assert.Equal([(byte)'x'], _toGuest.WrittenSpan.ToArray());
    }

    [Fact]
    public void EmptyInputDoesNothing()
    {
        Assert.False(Feed());
        Assert.Equal(0, _toGuest.WrittenCount);
    }
}
