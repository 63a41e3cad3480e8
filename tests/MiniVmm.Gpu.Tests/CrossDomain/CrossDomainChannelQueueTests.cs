using System.Diagnostics;
using System.IO.Pipes;
using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;
using static MiniVmm.Gpu.Tests.CrossDomain.ChannelTestSupport;

namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>
/// The channel's output queues against a scripted compositor that stops reading: SEND and WRITE queue instead of
/// waiting, flushes keep order, and past the bound the old bounded wait and failure come back.
/// In the Soak collection, which runs alone: one test counts the process's fds.
/// </summary>
[Collection("Soak")]
public sealed class CrossDomainChannelQueueTests : IDisposable
{
    private readonly FakeCrossDomainResources _resources = new();
    private readonly UnixSocket _peer;
    private readonly CrossDomainChannel _channel;

    public CrossDomainChannelQueueTests()
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
    public void SendsPastAFullSocketQueueAndFlushInOrder()
    {
        var sent = SendUntilQueued(_channel, 4000, minimumQueued: 512 * 1024);
        Assert.True(_channel.QueuedSendBytes > 0);
        var received = new List<byte>();
        while (received.Count < sent.Count)
        {
            received.AddRange(PeerReceive(_peer).Data);
            _channel.FlushOutgoing();
        }
        Assert.Equal(0, _channel.QueuedSendBytes);
        Assert.Equal(sent, received);
    }

    [Fact]
    public void PastTheBoundASendWaitsAndIsRefusedWholeWhenNothingMoves()
    {
        _channel.OutgoingLimitBytes = 64 * 1024;
        SendUntilQueued(_channel, 4000, minimumQueued: 60 * 1024);
        var queued = _channel.QueuedSendBytes;
        using var blob = _resources.AddBlob(7, 4096);
        var clock = Stopwatch.StartNew();
        Assert.Equal(CrossDomainChannelError.Stalled, _channel.Send(new byte[8000], [(7u, (uint)CrossDomainIdType.VirtgpuBlob)]));
        Assert.InRange(clock.ElapsedMilliseconds, CrossDomainChannel.SendTimeoutMs - 50, 10 * CrossDomainChannel.SendTimeoutMs);
        // Refused whole: the queue is as it was and the channel still works.
        Assert.Equal(queued, _channel.QueuedSendBytes);
        Assert.False(_channel.IsHungUp);
    }

    [Fact]
    public void WithoutABoundASendBlocksAndAHalfSentMessageHangsUp()
    {
        _channel.OutgoingLimitBytes = 0; // an owner with no event loop: the behaviour from before queueing
        var big = new byte[CrossDomainConstants.MaxSendReceiveData];
        CrossDomainChannelError error;
        var clock = Stopwatch.StartNew();
        while ((error = _channel.Send(big, default)) == CrossDomainChannelError.None)
            Assert.True(clock.Elapsed < ChannelTestSupport.Timeout, "the socket never filled");
        Assert.Equal(CrossDomainChannelError.Stalled, error);
        Assert.Equal(0, _channel.QueuedSendBytes);
        // The stall either cut a message in half (hung up) or refused it whole; a second stall is always whole.
        if (!_channel.IsHungUp)
            Assert.Equal(CrossDomainChannelError.Stalled, _channel.Send(big, default));
    }

    [Fact]
    public void ACompositorThatHangsUpWithBytesQueuedIsAHangUpAndItsFdsAreClosed()
    {
        using var blob = _resources.AddBlob(7, 4096);
        SendUntilQueued(_channel, 4000, minimumQueued: 64 * 1024);
        // Queued behind the rest, so its fd (a dup of the blob) is still ours.
        Assert.Equal(CrossDomainChannelError.None, _channel.Send(new byte[100], [(7u, (uint)CrossDomainIdType.VirtgpuBlob)]));
        var fdsBefore = Fuzz.GpuFuzzTests.OpenFdCount();
        _peer.Dispose();
        _channel.FlushOutgoing();
        Assert.True(_channel.IsHungUp);
        Assert.Equal(0, _channel.QueuedSendBytes);
        Assert.True(ReceiveOne(_channel).HangUp);
        Assert.Equal(CrossDomainChannelError.HungUp, _channel.Send("late"u8, default));
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
            PeerSend(_peer, writer);
        }
        pipe.DisposeLocalCopyOfClientHandle();
        var (id, _, _) = Assert.Single(ReceiveOne(_channel).Identifiers);

        var expected = new List<byte>();
        var chunk = new byte[CrossDomainConstants.MaxReadWriteData];
        for (var i = 0; i < 256; i++) // 1 MiB: far past a 64 KiB pipe
        {
            Random.Shared.NextBytes(chunk);
            expected.AddRange(chunk);
            var clock = Stopwatch.StartNew();
            Assert.Equal(CrossDomainChannelError.None, _channel.Write(id, chunk, hangUp: i == 255));
            Assert.True(clock.ElapsedMilliseconds < 200, $"WRITE {i} took {clock.ElapsedMilliseconds} ms");
        }
        Assert.Equal(CrossDomainChannelError.UnknownPipe, _channel.Write(id, "late"u8, hangUp: false));
        Assert.NotEmpty(_channel.PipesWithQueuedWrites);

        // The reader catches up while the owner flushes; end-of-file comes only after the last queued byte.
        var flusher = Task.Run(() =>
        {
            while (_channel.PipesWithQueuedWrites.Any())
            {
                _channel.FlushOutgoing();
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
