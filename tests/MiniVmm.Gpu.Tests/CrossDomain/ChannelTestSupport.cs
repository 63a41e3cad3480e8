using System.Diagnostics;
using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Sys;
using MiniVmm.Wayland;

namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>One RECEIVE's worth of what the channel produced.</summary>
internal sealed record Received(byte[] Data, List<(uint Id, uint Type, ulong Size)> Identifiers, bool HangUp);

/// <summary>Polling helpers: the channel never blocks, so tests spin with a deadline instead of an event loop.</summary>
internal static class ChannelTestSupport
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static Received ReceiveOne(CrossDomainChannel channel)
    {
        var buffer = new byte[CrossDomainConstants.MaxSendReceiveData];
        var identifiers = new List<(uint, uint, ulong)>();
        var clock = Stopwatch.StartNew();
        int length;
        bool hangUp;
        while (!channel.TryReceive(buffer, out length, identifiers, out hangUp))
        {
            if (clock.Elapsed > Timeout)
                throw new TimeoutException("the channel received nothing");
            Thread.Sleep(5);
        }
        return new Received(buffer[..length], identifiers, hangUp);
    }

    /// <summary>Receives until <paramref name="done"/> holds for the messages so far (or hang-up); returns every message and fd identifier.</summary>
    public static (List<(uint Object, ushort Opcode, byte[] Body)> Messages, List<(uint Id, uint Type, ulong Size)> Identifiers, bool HangUp)
        ReceiveUntil(CrossDomainChannel channel, Func<List<(uint Object, ushort Opcode, byte[] Body)>, bool> done)
    {
        var messages = new List<(uint, ushort, byte[])>();
        var identifiers = new List<(uint, uint, ulong)>();
        var pending = new List<byte>();
        var buffer = new byte[CrossDomainConstants.MaxSendReceiveData];
        var clock = Stopwatch.StartNew();
        while (!done(messages))
        {
            if (clock.Elapsed > Timeout)
                throw new TimeoutException($"after {messages.Count} messages the expected one had not come");
            if (!channel.TryReceive(buffer, out var length, identifiers, out var hangUp))
            {
                Thread.Sleep(5);
                continue;
            }
            if (hangUp)
                return (messages, identifiers, true);
            pending.AddRange(buffer.AsSpan(0, length));
            var bytes = pending.ToArray();
            var offset = 0;
            while (WireMessage.TryParse(bytes.AsSpan(offset), out var message, out var error))
            {
                messages.Add((message.ObjectId, message.Opcode, message.Body.ToArray()));
                offset += message.Size;
            }
            pending.RemoveRange(0, offset);
        }
        return (messages, identifiers, false);
    }

    /// <summary>What the scripted compositor end received: bytes and fds, waiting (bounded) for at least one byte.</summary>
    public static (byte[] Data, List<Fd> Fds) PeerReceive(UnixSocket peer)
    {
        var buffer = new byte[8192];
        using var queue = new FdQueue();
        var clock = Stopwatch.StartNew();
        int count;
        while ((count = peer.Receive(buffer, queue, out _, out _)) < 0)
        {
            if (clock.Elapsed > Timeout)
                throw new TimeoutException("the peer received nothing");
            Thread.Sleep(5);
        }
        var fds = new List<Fd>();
        while (queue.TryDequeue(out var fd))
            fds.Add(fd);
        return (buffer[..count], fds);
    }

    /// <summary>Sends what <paramref name="writer"/> holds, fds included, from the scripted compositor end.</summary>
    public static void PeerSend(UnixSocket peer, WireWriter writer)
    {
        var fds = new int[writer.FdCount];
        for (var i = 0; i < fds.Length; i++)
            fds[i] = (int)writer.GetFd(i).DangerousGetHandle();
        Assert.Equal(writer.Written.Length, peer.Send(writer.Written, fds, out _));
        writer.Consume(writer.Written.Length, fds.Length);
    }
}

/// <summary>A channel on one end of a socketpair, the test playing the compositor on the other (<see cref="Peer"/>).</summary>
public abstract class ScriptedChannelTests : IDisposable
{
    private protected readonly FakeCrossDomainResources Resources = new();
    private protected readonly UnixSocket Peer;
    private protected readonly CrossDomainChannel Channel;

    protected ScriptedChannelTests()
    {
        var (host, peer) = UnixSocket.CreatePair();
        Peer = peer;
        Channel = CrossDomainChannel.FromSocket(host, Resources.Interface);
    }

    public void Dispose()
    {
        Channel.Dispose();
        Peer.Dispose();
        Resources.Dispose();
        GC.SuppressFinalize(this);
    }
}
