using System.IO.Pipes;
using System.Text;
using Microsoft.Win32.SafeHandles;
using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;
using static MiniVmm.Gpu.Tests.CrossDomain.ChannelTestSupport;

namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>
/// The channel against a scripted compositor on a socketpair: fd translation both ways, pipes, refusals, hang-up.
/// (Weston's headless backend has no seat, so the keymap path is scripted here; Weston itself is in
/// <see cref="CrossDomainWestonTests"/>.)
/// </summary>
public sealed class CrossDomainChannelTests : IDisposable
{
    private readonly FakeCrossDomainResources _resources = new();
    private readonly UnixSocket _peer;
    private readonly CrossDomainChannel _channel;

    public CrossDomainChannelTests()
    {
        var (host, peer) = UnixSocket.CreatePair();
        _peer = peer;
        _channel = CrossDomainChannel.FromSocket(host, _resources.Interface);
    }

    public void Dispose()
    {
        _channel.Dispose();
        _peer.Dispose();
        _resources.Dispose();
    }

    [Fact]
    public void AnUnreachableCompositorIsOneLineNotAnException()
    {
        var channel = CrossDomainChannel.TryConnect("/nonexistent/minivmm/wayland-9", _resources.Interface, out var error);
        Assert.Null(channel);
        Assert.Contains("/nonexistent/minivmm/wayland-9", error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error!);
    }

    [Fact]
    public void AKeymapFdArrivesAsARegisteredHostBlob()
    {
        var keymap = Encoding.ASCII.GetBytes("xkb_keymap {\n  xkb_keycodes \"evdev\" { };\n};\n\0");
        using var memfd = _resources.AddBlob(999, 0);
        RandomAccess.Write(memfd, keymap, 0);
        using var writer = new WireWriter();
        WlKeyboard.EmitKeymap(writer, 12, WlKeyboard.KeymapFormat.XkbV1, memfd, (uint)keymap.Length);
        var sent = writer.Written.ToArray();
        PeerSend(_peer, writer);

        var received = ReceiveOne(_channel);
        Assert.Equal(sent, received.Data);
        var (id, type, size) = Assert.Single(received.Identifiers);
        Assert.Equal(((uint)CrossDomainIdType.VirtgpuBlob, (ulong)keymap.Length), (type, size));
        Assert.StartsWith("xkb_keymap", Encoding.ASCII.GetString(_resources.ReadRegistered(id, 10)), StringComparison.Ordinal);
        Assert.Equal(0, _channel.FdsDropped);
    }

    [Fact]
    public void SendPassesABlobsFdWithTheBytes()
    {
        var blob = _resources.AddBlob(7, 4096);
        RandomAccess.Write(blob, "PIXELS"u8, 0);
        Assert.Equal(CrossDomainChannelError.None, _channel.Send("0123456789ab"u8, [(7u, 1u)]));
        var (data, fds) = PeerReceive(_peer);
        Assert.Equal("0123456789ab"u8.ToArray(), data);
        using var fd = Assert.Single(fds);
        using var view = new SafeFileHandle(fd.DangerousGetHandle(), ownsHandle: false);
        var bytes = new byte[6];
        RandomAccess.Read(view, bytes, 0);
        Assert.Equal("PIXELS"u8.ToArray(), bytes);
    }

    [Theory]
    [InlineData(8u, 1u, CrossDomainChannelError.UnknownResource)]
    [InlineData(7u, 2u, CrossDomainChannelError.UnsupportedIdentifierType)]
    [InlineData(7u, 4u, CrossDomainChannelError.UnsupportedIdentifierType)]
    [InlineData(7u, 0xffffffffu, CrossDomainChannelError.UnsupportedIdentifierType)]
    [InlineData(0x80000002u, 3u, CrossDomainChannelError.ReadPipeIdMismatch)]
    [InlineData(0x80000000u, 3u, CrossDomainChannelError.ReadPipeIdMismatch)]
    public void BadIdentifiersRefuseTheWholeSend(uint id, uint type, CrossDomainChannelError expected)
    {
        _resources.AddBlob(7, 4096);
        // The good blob first: its fd must be closed again, and nothing reaches the compositor.
        Assert.Equal(expected, _channel.Send("abcd"u8, [(7u, 1u), (id, type)]));
        Assert.Equal(-1, _peer.Receive(new byte[16], new FdQueue(), out _, out _));
        // A refused read pipe does not use up its id.
        Assert.Equal(CrossDomainChannelError.None, _channel.Send("abcd"u8, [(0x80000001u, 3u)]));
    }

    [Fact]
    public void CountsAndEmptyMessagesAreChecked()
    {
        Assert.Equal(CrossDomainChannelError.TooManyIdentifiers, _channel.Send("abcd"u8, new (uint, uint)[29]));
        Assert.Equal(CrossDomainChannelError.FdsWithoutData, _channel.Send(default, [(7u, 1u)]));
        Assert.Equal(CrossDomainChannelError.None, _channel.Send(default, default));
        Assert.Equal(CrossDomainChannelError.UnknownPipe, _channel.Write(1, "x"u8, hangUp: false));
    }

    [Fact]
    public void AReadPipeCarriesCompositorDataBackAsRead()
    {
        Assert.Equal(CrossDomainChannelError.None, _channel.Send("recv"u8, [(0x80000001u, 3u)]));
        var (_, fds) = PeerReceive(_peer);
        using (var writeEnd = new FileStream(new SafeFileHandle(Assert.Single(fds).DangerousGetHandle(), false), FileAccess.Write))
        {
            writeEnd.Write("clipboard"u8);
        }
        fds[0].Dispose();
        var buffer = new byte[CrossDomainConstants.MaxReadWriteData];
        Assert.True(_channel.TryReadPipe(buffer, out var pipeId, out var length, out var hangUp));
        Assert.Equal((0x80000001u, "clipboard", false), (pipeId, Encoding.ASCII.GetString(buffer, 0, length), hangUp));
        Assert.True(_channel.TryReadPipe(buffer, out pipeId, out length, out hangUp));
        Assert.Equal((0x80000001u, 0, true), (pipeId, length, hangUp));
        Assert.False(_channel.TryReadPipe(buffer, out _, out _, out _));
        Assert.Equal(CrossDomainChannelError.None, _channel.Send("next"u8, [(0x80000002u, 3u)]));
    }

    [Fact]
    public void AWritePipeFromTheCompositorTakesGuestWrites()
    {
        using var pipe = new AnonymousPipeServerStream(PipeDirection.In);
        using (var writer = new WireWriter())
        {
            WlDataSource.EmitSend(writer, 20, "text/plain", pipe.ClientSafePipeHandle);
            PeerSend(_peer, writer);
        }
        pipe.DisposeLocalCopyOfClientHandle();
        var received = ReceiveOne(_channel);
        var (id, type, _) = Assert.Single(received.Identifiers);
        Assert.Equal((uint)CrossDomainIdType.WritePipe, type);
        Assert.Equal(CrossDomainChannelError.None, _channel.Write(id, "guest data"u8, hangUp: true));
        using var reader = new StreamReader(pipe);
        Assert.Equal("guest data", reader.ReadToEnd());
        Assert.Equal(CrossDomainChannelError.UnknownPipe, _channel.Write(id, "late"u8, hangUp: false));
    }

    [Fact]
    public void FdsWithNoIdentifierTypeAreClosedAndCounted()
    {
        var (other, otherPeer) = UnixSocket.CreatePair();
        using (other)
        using (otherPeer)
        using (var blob = _resources.AddBlob(999, 64))
        using (var writer = new WireWriter())
        {
            _resources.AcceptHostFds = false;
            WlDataOffer.Receive(writer, 30, "text/plain", other.Handle); // a socket: no v1 type fits
            WlKeyboard.EmitKeymap(writer, 12, WlKeyboard.KeymapFormat.XkbV1, blob, 64); // refused by the resources
            PeerSend(_peer, writer);
        }
        var received = ReceiveOne(_channel);
        Assert.Empty(received.Identifiers);
        Assert.Equal(2, _channel.FdsDropped);
    }

    [Fact]
    public void CompositorHangUpIsReportedEveryTimeAndSendsAreRefused()
    {
        _peer.Dispose();
        Assert.True(ReceiveOne(_channel).HangUp);
        Assert.True(ReceiveOne(_channel).HangUp);
        Assert.Equal(CrossDomainChannelError.HungUp, _channel.Send("abcd"u8, default));
    }

    [Fact]
    public void DisposeClosesTheCompositorConnection()
    {
        _channel.Dispose();
        Assert.Equal(0, _peer.Receive(new byte[16], new FdQueue(), out _, out _));
    }
}
