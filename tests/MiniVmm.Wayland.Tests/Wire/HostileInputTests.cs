using MiniVmm.Wayland.Protocol;

namespace MiniVmm.Wayland.Tests.Wire;

/// <summary>Bytes from a peer are values to judge: every malformation is an error value, never an exception.</summary>
public sealed class HostileInputTests
{
    [Theory]
    [InlineData("01000000 00000400", WireError.BadMessageSize)] // size 4 < header
    [InlineData("01000000 00000a00 00000000", WireError.BadMessageSize)] // size 10, not a multiple of 4
    [InlineData("01000000 00000000", WireError.BadMessageSize)] // size 0
    [InlineData("01000000 00000c00 00", WireError.None)] // size 12 but only 9 bytes: wait for more
    public void FramingRejectsImpossibleSizes(string hex, WireError expected)
    {
        Assert.False(WireMessage.TryParse(Hex.Parse(hex), out _, out var error));
        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData("ffffffff 61626300", WireError.Truncated)] // length near 2^32 must not wrap
    [InlineData("fdffffff 61626300", WireError.Truncated)]
    [InlineData("09000000 61626300", WireError.Truncated)]
    [InlineData("04000000 61626364", WireError.BadString)] // no NUL
    [InlineData("04000000 61006300", WireError.BadString)] // NUL inside
    [InlineData("00000000", WireError.NullString)] // null where not allowed
    [InlineData("040000", WireError.Truncated)]
    public void StringsAreBoundsChecked(string hex, WireError expected)
    {
        var reader = new WireReader(Hex.Parse(hex), null);
        Assert.False(reader.TryReadString(nullable: false, out _));
        Assert.Equal(expected, reader.Error);
    }

    [Theory]
    [InlineData("ffffffff 01020304", WireError.Truncated)]
    [InlineData("05000000 01020304", WireError.Truncated)]
    public void ArraysAreBoundsChecked(string hex, WireError expected)
    {
        var reader = new WireReader(Hex.Parse(hex), null);
        Assert.False(reader.TryReadArray(out _));
        Assert.Equal(expected, reader.Error);
    }

    [Fact]
    public void GeneratedDecodersReportErrors()
    {
        var handler = new NullHandler();
        Assert.Equal(WireError.TrailingBytes, Decode(WlRegistry.Events.GlobalRemove, "01000000 02000000"));
        Assert.Equal(WireError.Truncated, Decode(WlRegistry.Events.Global, "01000000"));
        Assert.Equal(WireError.UnknownOpcode, Decode(7, ""));
        var reader = new WireReader(Hex.Parse("01000000 00100000"), new FdQueue());
        Assert.Equal(WireError.MissingFd, WlKeyboard.DispatchEvent(handler, 3, WlKeyboard.Events.Keymap, ref reader));

        WireError Decode(ushort opcode, string hex)
        {
            var r = new WireReader(Hex.Parse(hex), null);
            return WlRegistry.DispatchEvent(handler, 2, opcode, ref r);
        }
    }

    [Fact]
    public void NullObjectIsRejectedUnlessAllowed()
    {
        var handler = new NullHandler();
        // wl_surface.enter(output) does not allow null; wl_surface.attach(buffer) does.
        var reader = new WireReader(Hex.Parse("00000000"), null);
        Assert.Equal(WireError.NullObject, WlSurface.DispatchEvent(handler, 3, WlSurface.Events.Enter, ref reader));
        reader = new WireReader(Hex.Parse("00000000 00000000 00000000"), null);
        Assert.Equal(WireError.None, WlSurface.DispatchRequest(handler, 3, WlSurface.Requests.Attach, ref reader));
    }

    /// <summary>Random bytes through the framer, every generic signature walk, the tracer and several generated decoders.</summary>
    [Fact]
    public void RandomBytesNeverThrow()
    {
        var random = new Random(1234);
        var handler = new NullHandler();
        var buffer = new byte[96];
        for (var round = 0; round < 20000; round++)
        {
            random.NextBytes(buffer);
            var length = random.Next(buffer.Length + 1);
            var body = buffer.AsSpan(0, length & ~3);
            // Small length prefixes are where the interesting paths are.
            if (body.Length >= 4 && random.Next(2) == 0)
                body[0] = (byte)random.Next(16);
            _ = WireMessage.TryParse(buffer.AsSpan(0, length), out _, out _);
            foreach (var iface in WaylandInterfaces.All)
            {
                foreach (var message in iface.Requests.Concat(iface.Events))
                    _ = message.Validate(body);
            }
            var opcode = (ushort)random.Next(8);
            _ = WireTrace.Format(WlSurface.Info, 3, MessageDirection.Request, opcode, body);
            using var fds = new FdQueue();
            Dispatch(body, fds, (ref WireReader r) => WlRegistry.DispatchEvent(handler, 2, opcode, ref r));
            Dispatch(body, fds, (ref WireReader r) => XdgToplevel.DispatchEvent(handler, 5, opcode, ref r));
            Dispatch(body, fds, (ref WireReader r) => WlDisplay.DispatchEvent(handler, 1, opcode, ref r));
            Dispatch(body, fds, (ref WireReader r) => WlRegistry.DispatchRequest(handler, 2, opcode, ref r));
            Dispatch(body, fds, (ref WireReader r) => WlShm.DispatchRequest(handler, 4, opcode, ref r));
            Dispatch(body, fds, (ref WireReader r) => WlSurface.DispatchRequest(handler, 3, opcode, ref r));
        }
    }

    private delegate WireError Decoder(ref WireReader reader);

    private static void Dispatch(ReadOnlySpan<byte> body, FdQueue fds, Decoder decode)
    {
        var reader = new WireReader(body, fds);
        _ = decode(ref reader);
    }

    private sealed class NullHandler
        : WlRegistry.IEventHandler, WlRegistry.IRequestHandler, XdgToplevel.IEventHandler, WlDisplay.IEventHandler,
          WlShm.IRequestHandler, WlSurface.IRequestHandler, WlSurface.IEventHandler, WlKeyboard.IEventHandler;
}
