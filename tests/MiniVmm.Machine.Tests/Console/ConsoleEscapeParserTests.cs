using System.Buffers;
using MiniVmm.Machine.Console;

namespace MiniVmm.Machine.Tests.Console;

public sealed class ConsoleEscapeParserTests
{
    private readonly ConsoleEscapeParser _parser = new();

    /// <summary>
    /// Feeds <paramref name="input"/> as one read the way SerialConsole does (again after each command)
    /// and returns what happened in order: guest bytes as they are, each command as [Name].
    /// </summary>
    private string Feed(params byte[] input)
    {
        var transcript = new System.Text.StringBuilder();
        ReadOnlySpan<byte> rest = input;
        var toGuest = new ArrayBufferWriter<byte>();
        do
        {
            toGuest.ResetWrittenCount();
            var command = _parser.Process(rest, toGuest, out int consumed);
            Assert.InRange(consumed, command == ConsoleCommand.None ? rest.Length : 1, rest.Length);
            rest = rest[consumed..];
            foreach (byte b in toGuest.WrittenSpan)
                transcript.Append((char)b);
            if (command != ConsoleCommand.None)
                transcript.Append('[').Append(command).Append(']');
        } while (!rest.IsEmpty);
        return transcript.ToString();
    }

    private static byte[] Keys(string keys) => [.. keys.Select(c => (byte)c)];

    [Fact]
    public void PlainBytesPassThrough() => Assert.Equal("ls -l\r", Feed(Keys("ls -l\r")));

    [Fact]
    public void CtrlAXQuits() => Assert.Equal("a[Quit]", Feed(Keys("a\u0001x")));

    [Fact]
    public void ProcessStopsRightAfterTheCommand()
    {
        var toGuest = new ArrayBufferWriter<byte>();
        Assert.Equal(ConsoleCommand.Quit, _parser.Process(Keys("a\u0001xyz"), toGuest, out int consumed));
        Assert.Equal(3, consumed); // "yz" is left for the caller: after a quit it never passes it on
        Assert.Equal("a"u8.ToArray(), toGuest.WrittenSpan.ToArray());
    }

    [Theory]
    [InlineData('h', "[Help]")]
    [InlineData('?', "[Help]")]
    [InlineData('b', "[Break]")]
    [InlineData('s', "[Screenshot]")]
    [InlineData('x', "[Quit]")]
    public void EachCommandKey(char key, string expected) => Assert.Equal(expected, Feed(0x01, (byte)key));

    [Fact]
    public void CommandsKeepTheirPlaceAmongTheKeys() =>
        Assert.Equal("ab[Break]h[Help]\u0001s[Screenshot]z", Feed(Keys("ab\u0001bh\u0001h\u0001\u0001s\u0001sz")));

    [Fact]
    public void CapitalLettersAreNotCommands() => Assert.Equal("\u0001X\u0001B\u0001H\u0001S", Feed(Keys("\u0001X\u0001B\u0001H\u0001S")));

    [Fact]
    public void CtrlACtrlASendsOneCtrlA() => Assert.Equal("\u0001", Feed(0x01, 0x01));

    [Fact]
    public void CtrlACtrlAThenXSendsCtrlAAndX() => Assert.Equal("\u0001x", Feed(0x01, 0x01, (byte)'x'));

    [Theory]
    [InlineData((byte)'a')]
    [InlineData((byte)'c')]
    [InlineData((byte)'\r')]
    [InlineData((byte)0x03)]
    [InlineData((byte)0x00)]
    public void CtrlAThenOtherSendsBoth(byte other) => Assert.Equal($"\u0001{(char)other}", Feed(0x01, other));

    [Fact]
    public void EscapeSplitAcrossReadsIsRemembered()
    {
        Assert.Equal("a", Feed((byte)'a', 0x01));
        Assert.Equal("[Quit]", Feed((byte)'x'));
    }

    [Fact]
    public void BreakSplitAcrossReadsIsRemembered()
    {
        Assert.Equal("", Feed(0x01));
        Assert.Equal("[Break]t", Feed((byte)'b', (byte)'t'));
    }

    [Fact]
    public void EscapeSplitAcrossReadsThenOtherSendsBoth()
    {
        Assert.Equal("", Feed(0x01));
        Assert.Equal("\u0001q", Feed((byte)'q'));
    }

    [Fact]
    public void LoneCommandLettersAreJustLetters() => Assert.Equal("xbhs?", Feed(Keys("xbhs?")));

    [Fact]
    public void EmptyInputDoesNothing() => Assert.Equal("", Feed());

    [Fact]
    public void HelpListsEveryKey()
    {
        foreach (string key in new[] { "Ctrl-A h", "Ctrl-A b", "Ctrl-A s", "Ctrl-A x", "Ctrl-A Ctrl-A" })
            Assert.Contains(key, ConsoleEscapeParser.HelpText);
    }
}
