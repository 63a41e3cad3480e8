using System.IO.Pipes;
using System.Text;
using Microsoft.Win32.SafeHandles;
using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Sys;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;
using static MiniVmm.Gpu.Tests.CrossDomain.ChannelTestSupport;

namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>
/// The channel against a scripted compositor on a socketpair: fd translation both ways, pipes, refusals, hang-up.
/// (Weston's headless backend has no seat, so the keymap path is scripted here; Weston itself is in
/// <see cref="CrossDomainWestonTests"/>.)
/// </summary>
public sealed class CrossDomainChannelTests : ScriptedChannelTests
{
    [Fact]
    public void AnUnreachableCompositorIsOneLineNotAnException()
    {
        var channel = CrossDomainChannel.TryConnect("/nonexistent/minivmm/wayland-9", Resources.Interface, out var error);
        Assert.Null(channel);
        Assert.Contains("/nonexistent/minivmm/wayland-9", error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error!);
    }

    [Fact]
    public void AKeymapFdArrivesAsARegisteredHostBlob()
    {
        var keymap = Encoding.ASCII.GetBytes("xkb_keymap {\n  xkb_keycodes \"evdev\" { };\n};\n\0");
        using var memfd = Resources.AddBlob(999, 0);
        RandomAccess.Write(memfd, keymap, 0);
        using var writer = new WireWriter();
        WlKeyboard.EmitKeymap(writer, 12, WlKeyboard.KeymapFormat.XkbV1, memfd, (uint)keymap.Length);
        var sent = writer.Written.ToArray();
        PeerSend(Peer, writer);

        var received = ReceiveOne(Channel);
        Assert.Equal(sent, received.Data);
        var (id, type, size) = Assert.Single(received.Identifiers);
        Assert.Equal(((uint)CrossDomainIdType.VirtgpuBlob, (ulong)keymap.Length), (type, size));
        Assert.StartsWith("xkb_keymap", Encoding.ASCII.GetString(Resources.ReadRegistered(id, 10)), StringComparison.Ordinal);
        Assert.Equal(0, Channel.FdsDropped);
    }

    [Fact]
    public void SendPassesABlobsFdWithTheBytes()
    {
        var blob = Resources.AddBlob(7, 4096);
        RandomAccess.Write(blob, "PIXELS"u8, 0);
        Assert.Equal(CrossDomainChannelError.None, Channel.Send("0123456789ab"u8, [(7u, 1u)]));
        var (data, fds) = PeerReceive(Peer);
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
        Resources.AddBlob(7, 4096);
        // The good blob first: its fd must be closed again, and nothing reaches the compositor.
        Assert.Equal(expected, Channel.Send("abcd"u8, [(7u, 1u), (id, type)]));
        Assert.Equal(-1, Peer.Receive(new byte[16], new FdQueue(), out _, out _));
        // A refused read pipe does not use up its id.
        Assert.Equal(CrossDomainChannelError.None, Channel.Send("abcd"u8, [(0x80000001u, 3u)]));
    }

    [Fact]
    public void CountsAndEmptyMessagesAreChecked()
    {
        Assert.Equal(CrossDomainChannelError.TooManyIdentifiers, Channel.Send("abcd"u8, new (uint, uint)[29]));
        Assert.Equal(CrossDomainChannelError.FdsWithoutData, Channel.Send(default, [(7u, 1u)]));
        Assert.Equal(CrossDomainChannelError.None, Channel.Send(default, default));
        Assert.Equal(CrossDomainChannelError.UnknownPipe, Channel.Write(1, "x"u8, hangUp: false));
    }

    [Fact]
    public void AReadPipeCarriesCompositorDataBackAsRead()
    {
        Assert.Equal(CrossDomainChannelError.None, Channel.Send("recv"u8, [(0x80000001u, 3u)]));
        var (_, fds) = PeerReceive(Peer);
        using (var writeEnd = new FileStream(new SafeFileHandle(Assert.Single(fds).DangerousGetHandle(), false), FileAccess.Write))
        {
            writeEnd.Write("clipboard"u8);
        }
        fds[0].Dispose();
        var buffer = new byte[CrossDomainConstants.MaxReadWriteData];
        Assert.True(Channel.TryReadPipe(buffer, out var pipeId, out var length, out var hangUp));
        Assert.Equal((0x80000001u, "clipboard", false), (pipeId, Encoding.ASCII.GetString(buffer, 0, length), hangUp));
        Assert.True(Channel.TryReadPipe(buffer, out pipeId, out length, out hangUp));
        Assert.Equal((0x80000001u, 0, true), (pipeId, length, hangUp));
        Assert.False(Channel.TryReadPipe(buffer, out _, out _, out _));
        Assert.Equal(CrossDomainChannelError.None, Channel.Send("next"u8, [(0x80000002u, 3u)]));
    }

    [Fact]
    public void AWritePipeFromTheCompositorTakesGuestWrites()
    {
        using var pipe = new AnonymousPipeServerStream(PipeDirection.In);
        using (var writer = new WireWriter())
        {
            WlDataSource.EmitSend(writer, 20, "text/plain", pipe.ClientSafePipeHandle);
            PeerSend(Peer, writer);
        }
        pipe.DisposeLocalCopyOfClientHandle();
        var received = ReceiveOne(Channel);
        var (id, type, _) = Assert.Single(received.Identifiers);
        Assert.Equal((uint)CrossDomainIdType.WritePipe, type);
        Assert.Equal(CrossDomainChannelError.None, Channel.Write(id, "guest data"u8, hangUp: true));
        using var reader = new StreamReader(pipe);
        Assert.Equal("guest data", reader.ReadToEnd());
        Assert.Equal(CrossDomainChannelError.UnknownPipe, Channel.Write(id, "late"u8, hangUp: false));
    }

    [Fact]
    public void FdsWithNoIdentifierTypeAreClosedAndCounted()
    {
        var (other, otherPeer) = UnixSocket.CreatePair();
        using (other)
        using (otherPeer)
        using (var blob = Resources.AddBlob(999, 64))
        using (var writer = new WireWriter())
        {
            Resources.AcceptHostFds = false;
            WlDataOffer.Receive(writer, 30, "text/plain", other.Handle); // a socket: no v1 type fits
            WlKeyboard.EmitKeymap(writer, 12, WlKeyboard.KeymapFormat.XkbV1, blob, 64); // refused by the resources
            PeerSend(Peer, writer);
        }
        var received = ReceiveOne(Channel);
        Assert.Empty(received.Identifiers);
        Assert.Equal(2, Channel.FdsDropped);
    }

    [Fact]
    public void CompositorHangUpIsReportedEveryTimeAndSendsAreRefused()
    {
        Peer.Dispose();
        Assert.True(ReceiveOne(Channel).HangUp);
        Assert.True(ReceiveOne(Channel).HangUp);
        Assert.Equal(CrossDomainChannelError.HungUp, Channel.Send("abcd"u8, default));
    }

    [Fact]
    public void DisposeClosesTheCompositorConnection()
    {
        Channel.Dispose();
        Assert.Equal(0, Peer.Receive(new byte[16], new FdQueue(), out _, out _));
    }
}
