using System.Diagnostics;
using System.IO.Pipes;
using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;
using static MiniVmm.Gpu.Tests.CrossDomain.ChannelTestSupport;

namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>
/// The channel's output queues against a scripted compositor that stops reading: SEND and WRITE queue instead of
/// waiting, flushes keep order, past the bound a send is refused at once, and only an owner without an event loop
/// (bound 0) still waits, bounded.
/// In the Soak collection, which runs alone: one test counts the process's fds.
/// </summary>
[Collection("Soak")]
public sealed class CrossDomainChannelQueueTests : ScriptedChannelTests
{
    [Fact]
    public void SendsPastAFullSocketQueueAndFlushInOrder()
    {
        var sent = SendUntilQueued(Channel, 4000, minimumQueued: 512 * 1024);
        Assert.True(Channel.QueuedSendBytes > 0);
        var received = new List<byte>();
        while (received.Count < sent.Count)
        {
            received.AddRange(PeerReceive(Peer).Data);
            Channel.FlushOutgoing();
        }
        Assert.Equal(0, Channel.QueuedSendBytes);
        Assert.Equal(sent, received);
    }

    [Fact]
    public void PastTheBoundASendIsRefusedWholeAtOnce()
    {
        Channel.OutgoingLimitBytes = 64 * 1024;
        SendUntilQueued(Channel, 4000, minimumQueued: 60 * 1024);
        var queued = Channel.QueuedSendBytes;
        using var blob = Resources.AddBlob(7, 4096);
        var clock = Stopwatch.StartNew();
        Assert.Equal(CrossDomainChannelError.Stalled, Channel.Send(new byte[8000], [(7u, (uint)CrossDomainIdType.VirtgpuBlob)]));
        // The device thread does not wait for a compositor that stopped reading (it used to, up to a second per SEND).
        Assert.True(clock.ElapsedMilliseconds < CrossDomainChannel.SendTimeoutMs / 4, $"the refusal took {clock.ElapsedMilliseconds} ms");
        // Refused whole: the queue is as it was and the channel still works.
        Assert.Equal(queued, Channel.QueuedSendBytes);
        Assert.False(Channel.IsHungUp);
    }

    [Fact]
    public void WithoutABoundASendBlocksAndAHalfSentMessageHangsUp()
    {
        Channel.OutgoingLimitBytes = 0; // an owner with no event loop: the behaviour from before queueing
        var big = new byte[CrossDomainConstants.MaxSendReceiveData];
        CrossDomainChannelError error;
        var clock = Stopwatch.StartNew();
        while ((error = Channel.Send(big, default)) == CrossDomainChannelError.None)
            Assert.True(clock.Elapsed < ChannelTestSupport.Timeout, "the socket never filled");
        Assert.Equal(CrossDomainChannelError.Stalled, error);
        Assert.Equal(0, Channel.QueuedSendBytes);
        // The stall either cut a message in half (hung up) or refused it whole; a second stall is always whole.
        if (!Channel.IsHungUp)
            Assert.Equal(CrossDomainChannelError.Stalled, Channel.Send(big, default));
    }

    [Fact]
    public void ACompositorThatHangsUpWithBytesQueuedIsAHangUpAndItsFdsAreClosed()
    {
        using var blob = Resources.AddBlob(7, 4096);
        SendUntilQueued(Channel, 4000, minimumQueued: 64 * 1024);
        // Queued behind the rest, so its fd (a dup of the blob) is still ours.
        Assert.Equal(CrossDomainChannelError.None, Channel.Send(new byte[100], [(7u, (uint)CrossDomainIdType.VirtgpuBlob)]));
        var fdsBefore = Fuzz.GpuFuzzTests.OpenFdCount();
        Peer.Dispose();
        Channel.FlushOutgoing();
        Assert.True(Channel.IsHungUp);
        Assert.Equal(0, Channel.QueuedSendBytes);
        Assert.True(ReceiveOne(Channel).HangUp);
        Assert.Equal(CrossDomainChannelError.HungUp, Channel.Send("late"u8, default));
        // The peer's socket and the queued dup are gone (other tests may open fds meanwhile, hence at most).
        Assert.True(Fuzz.GpuFuzzTests.OpenFdCount() <= fdsBefore - 2, "the queued fd was not closed");
    }

    [Fact]
    public async Task WritesToAPipeNobodyReadsQueueAndTheHangUpWaitsForTheBytes()
    {
        using var pipe = new AnonymousPipeServerStream(PipeDirection.In);
        using (var writer = new WireWriter())
        {
            WlDataSource.EmitSend(writer, 20, "text/plain", pipe.ClientSafePipeHandle);
            PeerSend(Peer, writer);
        }
        pipe.DisposeLocalCopyOfClientHandle();
        var (id, _, _) = Assert.Single(ReceiveOne(Channel).Identifiers);

        var expected = new List<byte>();
        var chunk = new byte[CrossDomainConstants.MaxReadWriteData];
        for (var i = 0; i < 256; i++) // 1 MiB: far past a 64 KiB pipe
        {
            Random.Shared.NextBytes(chunk);
            expected.AddRange(chunk);
            var clock = Stopwatch.StartNew();
            Assert.Equal(CrossDomainChannelError.None, Channel.Write(id, chunk, hangUp: i == 255));
            Assert.True(clock.ElapsedMilliseconds < 200, $"WRITE {i} took {clock.ElapsedMilliseconds} ms");
        }
        Assert.Equal(CrossDomainChannelError.UnknownPipe, Channel.Write(id, "late"u8, hangUp: false));
        Assert.NotEmpty(Channel.PipesWithQueuedWrites);

        // The reader catches up while the owner flushes; end-of-file comes only after the last queued byte.
        var flusher = Task.Run(() =>
        {
            while (Channel.PipesWithQueuedWrites.Any())
            {
                Channel.FlushOutgoing();
                Thread.Sleep(1);
            }
        });
        using var all = new MemoryStream();
        await pipe.CopyToAsync(all);
        await flusher.WaitAsync(ChannelTestSupport.Timeout);
        Assert.Equal(expected, all.ToArray());
    }

    /// <summary>SENDs numbered chunks of <paramref name="size"/> bytes until at least <paramref name="minimumQueued"/> wait; each answers at once.</summary>
    internal static List<byte> SendUntilQueued(CrossDomainChannel channel, int size, long minimumQueued)
    {
        var sent = new List<byte>();
        var chunk = new byte[size];
        for (var i = 0; channel.QueuedSendBytes < minimumQueued; i++)
        {
            Assert.True(i < 100_000, "nothing was queued");
            new Random(i).NextBytes(chunk);
            var clock = Stopwatch.StartNew();
            Assert.Equal(CrossDomainChannelError.None, channel.Send(chunk, default));
            Assert.True(clock.ElapsedMilliseconds < 200, $"SEND {i} took {clock.ElapsedMilliseconds} ms");
            sent.AddRange(chunk);
        }
        return sent;
    }
}
