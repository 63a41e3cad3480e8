namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>The SUBMIT_3D stream parser on hand-written hex vectors (little-endian, as the guest writes them).</summary>
public sealed class CrossDomainParserTests
{
    // Headers: cmd, ring_idx, cmd_size (u16), pad (u32).
    private const string Poll15 = "03010f00 00000000 0000000000000000"; // cmd_size 15: one short of CrossDomainPoll
    private const string PollGood = "03011000 00000000 0000000000000000";
    private const string Init20 = "01001400 00000000 01000000 02000000 01000000";
    private const string Init16 = "01001000 00000000 07000000 01000000";
    private const string Init24 = "01001800 00000000 01000000 02000000 01000000 01000000";
    private const string ImageReq = "02001800 00000000 40000000 20000000 34325258 10000000";
    private const string Write3 = "07001b00 00000000 05000000 01000000 03000000 00000000 616263";

    private static byte[] Hex(string text) => Convert.FromHexString(text.Replace(" ", "", StringComparison.Ordinal));

    private static (bool Ok, List<CrossDomainCommand> Commands, CrossDomainParseError Error, int At) Parse(byte[] stream)
    {
        var commands = new List<CrossDomainCommand>();
        var ok = CrossDomainCommandParser.TryParse(stream, commands, out var error, out var at);
        return (ok, commands, error, at);
    }

    [Fact]
    public void InitForms()
    {
        var (ok, commands, _, _) = Parse(Hex(Init20 + Init16 + Init24));
        Assert.True(ok);
        Assert.Equal(new CrossDomainInitCommand(0, 1, 2, 1), commands[0]);
        Assert.Equal(new CrossDomainInitCommand(20, 7, 7, 1), commands[1]); // legacy: channel ring = query ring
        Assert.Equal(new CrossDomainInitCommand(36, 1, 2, 1), commands[2]);
    }

    [Fact]
    public void SeveralCommandsBackToBack()
    {
        var stream = Hex(ImageReq + PollGood + Write3);
        var (ok, commands, _, _) = Parse(stream);
        Assert.True(ok);
        Assert.Equal(new CrossDomainGetImageRequirementsCommand(0, 64, 32, 0x58523234, 16), commands[0]);
        Assert.IsType<CrossDomainPollCommand>(commands[1]);
        var write = Assert.IsType<CrossDomainWriteCommand>(commands[2]);
        Assert.Equal((5u, true), (write.Identifier, write.HangUp));
        Assert.Equal("abc"u8.ToArray(), write.DataIn(stream).ToArray());
    }

    [Fact]
    public void SendCarriesIdentifiersAndData()
    {
        var stream = Send(2, 8, extra: 0);
        var (ok, commands, _, _) = Parse(stream);
        Assert.True(ok);
        var send = Assert.IsType<CrossDomainSendCommand>(Assert.Single(commands));
        Assert.Equal([(100u, 1u), (0x80000001u, 3u)], send.Identifiers);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (byte)i).ToArray(), send.DataIn(stream).ToArray());
    }

    [Theory]
    [InlineData("", true, CrossDomainParseError.None, -1)]
    [InlineData("030110", false, CrossDomainParseError.TruncatedHeader, 0)]
    [InlineData(PollGood + "0301", false, CrossDomainParseError.TruncatedHeader, 16)]
    [InlineData("03010000 00000000", false, CrossDomainParseError.CommandTooSmall, 0)] // cmd_size 0 would never advance
    [InlineData("03010400 00000000", false, CrossDomainParseError.CommandTooSmall, 0)]
    [InlineData(Poll15 + "00", false, CrossDomainParseError.CommandTooSmall, 0)]          // POLL needs 16
    [InlineData("03012000 00000000 0000000000000000", false, CrossDomainParseError.CommandPastEnd, 0)]
    [InlineData("0301ffff 00000000 0000000000000000", false, CrossDomainParseError.CommandPastEnd, 0)]
    [InlineData("08000800 00000000", false, CrossDomainParseError.UnknownCommand, 0)]
    [InlineData("00000800 00000000", false, CrossDomainParseError.UnknownCommand, 0)]
    [InlineData("05001000 00000000 0000000000000000", false, CrossDomainParseError.UnknownCommand, 0)] // RECEIVE is host-only
    [InlineData("06001000 00000000 0000000000000000", false, CrossDomainParseError.UnknownCommand, 0)] // READ is host-only
    [InlineData("01000c00 00000000 01000000", false, CrossDomainParseError.CommandTooSmall, 0)]
    [InlineData("02001400 00000000 01000000 01000000 01000000", false, CrossDomainParseError.CommandTooSmall, 0)]
    [InlineData("07001800 00000000 01000000 00000000 01000000 00000000", false, CrossDomainParseError.DataPastCommand, 0)]
    [InlineData("07001800 00000000 01000000 00000000 ffffffff 00000000", false, CrossDomainParseError.DataPastCommand, 0)]
    [InlineData("07001400 00000000 01000000 00000000 00000000", false, CrossDomainParseError.CommandTooSmall, 0)]
    public void HostileStreams(string hex, bool expectOk, CrossDomainParseError expected, int at)
    {
        var (ok, _, error, errorAt) = Parse(Hex(hex));
        Assert.Equal((expectOk, expected, at), (ok, error, errorAt));
    }

    [Theory]
    [InlineData(29u, 0u, CrossDomainParseError.TooManyIdentifiers)]
    [InlineData(0xffffffffu, 0u, CrossDomainParseError.TooManyIdentifiers)]
    [InlineData(1u, 9u, CrossDomainParseError.DataPastCommand)]           // 8 data bytes present, 9 claimed
    [InlineData(1u, 0xffffffffu, CrossDomainParseError.DataPastCommand)]  // would overflow a naive sum
    public void HostileSend(uint numIdentifiers, uint dataSize, CrossDomainParseError expected)
    {
        var stream = Send(1, 8, extra: 0);
        BitConverter.TryWriteBytes(stream.AsSpan(8), numIdentifiers);
        BitConverter.TryWriteBytes(stream.AsSpan(12), dataSize);
        var (ok, commands, error, at) = Parse(stream);
        Assert.False(ok);
        Assert.Empty(commands);
        Assert.Equal((expected, 0), (error, at));
    }

    [Fact]
    public void GoodCommandsBeforeABadOneAreKept()
    {
        var (ok, commands, error, at) = Parse(Hex(PollGood + PollGood + "09001000 00000000 0000000000000000"));
        Assert.False(ok);
        Assert.Equal(2, commands.Count);
        Assert.Equal((CrossDomainParseError.UnknownCommand, 32), (error, at));
    }

    [Fact]
    public void SendShorterThanItsStructIsRefused()
    {
        var stream = Send(0, 0, extra: 0)[..351];
        BitConverter.TryWriteBytes(stream.AsSpan(2), (ushort)351);
        Assert.Equal(CrossDomainParseError.CommandTooSmall, Parse(stream).Error);
    }

    /// <summary>A SEND with <paramref name="ids"/> identifiers (a blob, then a read pipe) and <paramref name="dataLength"/> bytes 0, 1, 2...</summary>
    internal static byte[] Send(int ids, int dataLength, int extra)
    {
        var stream = new byte[CrossDomainSendReceive.Size + dataLength + extra];
        stream[0] = (byte)CrossDomainCmd.Send;
        BitConverter.TryWriteBytes(stream.AsSpan(2), (ushort)stream.Length);
        BitConverter.TryWriteBytes(stream.AsSpan(8), (uint)ids);
        BitConverter.TryWriteBytes(stream.AsSpan(12), (uint)dataLength);
        (uint Id, uint Type)[] sample = [(100, 1), (0x80000001, 3)];
        for (var i = 0; i < ids; i++)
        {
            BitConverter.TryWriteBytes(stream.AsSpan(16 + 4 * i), sample[i % 2].Id);
            BitConverter.TryWriteBytes(stream.AsSpan(128 + 4 * i), sample[i % 2].Type);
        }
        for (var i = 0; i < dataLength; i++)
            stream[CrossDomainSendReceive.Size + i] = (byte)i;
        return stream;
    }
}
