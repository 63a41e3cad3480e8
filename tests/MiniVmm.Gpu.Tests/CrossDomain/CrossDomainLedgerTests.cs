using MiniVmm.Gpu.Backend;
using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Sys;
using static MiniVmm.Gpu.Tests.CrossDomain.ChannelTestSupport;

namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>
/// What all channels of one device hold together: queued bytes, pipes and parked fds are capped over every context,
/// and queued bytes count against the host budget (max-host-memory), both ways.
/// </summary>
[Collection("Soak")]
public sealed class CrossDomainLedgerTests : IDisposable
{
    private readonly FakeCrossDomainResources _resources = new();
    private readonly List<IDisposable> _owned = [];

    public void Dispose()
    {
        foreach (var owned in _owned)
            owned.Dispose();
        _resources.Dispose();
    }

    /// <summary>A channel on a socketpair whose peer never reads (a stuck compositor).</summary>
    private CrossDomainChannel StuckChannel(CrossDomainLedger ledger)
    {
        var (host, peer) = UnixSocket.CreatePair();
        var channel = CrossDomainChannel.FromSocket(host, _resources.Interface, ledger);
        _owned.Add(channel);
        _owned.Add(peer);
        return channel;
    }

    [Fact]
    public void QueuedBytesAreCappedOverEveryChannelAndGivenBackWhenAChannelGoes()
    {
        var ledger = new CrossDomainLedger(maxQueuedBytes: 1 << 20);
        var channels = Enumerable.Range(0, 4).Select(_ => StuckChannel(ledger)).ToList();
        var chunk = new byte[32 * 1024];
        int refused = 0;
        // Each channel alone would queue up to 8 MiB; together they stop at the ledger's 1 MiB (plus the socket buffers).
        for (int round = 0; round < 200; round++)
            foreach (var channel in channels)
                if (channel.Send(chunk, default) == CrossDomainChannelError.Stalled)
                    refused++;
        Assert.True(refused > 0, "no SEND was refused");
        Assert.InRange(ledger.QueuedBytes, 1, (1 << 20) + chunk.Length * channels.Count);
        // The ledger charges each queued message its bytes plus the heap it costs to hold them.
        long Payload(IEnumerable<CrossDomainChannel> some) => some.Sum(channel => channel.QueuedSendBytes);
        long mostOverhead = 200L * channels.Count * OutgoingQueue.PerMessageOverhead;
        Assert.InRange(ledger.QueuedBytes, Payload(channels), Payload(channels) + mostOverhead);
        channels[0].Dispose();
        Assert.InRange(ledger.QueuedBytes, Payload(channels.Skip(1)), Payload(channels.Skip(1)) + mostOverhead);
        foreach (var channel in channels.Skip(1))
            channel.Dispose();
        Assert.Equal(0, ledger.QueuedBytes);
    }

    [Fact]
    public void PipesAreCappedOverEveryChannel()
    {
        var ledger = new CrossDomainLedger(maxPipes: 2);
        var first = StuckChannel(ledger);
        var second = StuckChannel(ledger);
        Assert.Equal(CrossDomainChannelError.None, first.Send("a"u8, [(CrossDomainConstants.PipeReadStart + 1, (uint)CrossDomainIdType.ReadPipe)]));
        Assert.Equal(CrossDomainChannelError.None, second.Send("b"u8, [(CrossDomainConstants.PipeReadStart + 1, (uint)CrossDomainIdType.ReadPipe)]));
        Assert.Equal(2, ledger.Pipes);
        Assert.Equal(CrossDomainChannelError.TooManyPipes, first.Send("c"u8, [(CrossDomainConstants.PipeReadStart + 2, (uint)CrossDomainIdType.ReadPipe)]));
        second.Dispose();
        Assert.Equal(1, ledger.Pipes);
        Assert.Equal(CrossDomainChannelError.None, first.Send("c"u8, [(CrossDomainConstants.PipeReadStart + 2, (uint)CrossDomainIdType.ReadPipe)]));
    }

    [Fact]
    public void ParkedFdsAreCappedOverEveryOwnerAndCountedBackWhenClaimedOrDropped()
    {
        var ledger = new CrossDomainLedger(maxParkedFds: 3);
        using var first = new PendingHostFds(64, ledger);
        using var second = new PendingHostFds(64, ledger);
        uint a = first.Register(Memfd.TryCreate("a", 4096, out string? _)!, 4096);
        uint b = second.Register(Memfd.TryCreate("b", 4096, out string? _)!, 4096);
        second.Register(Memfd.TryCreate("c", 4096, out string? _)!, 4096);
        Assert.Equal(0u, first.Register(Memfd.TryCreate("d", 4096, out string? _)!, 4096)); // the fourth over both is refused (and closed)
        Assert.True(first.TryTake(a, out var taken, out _));
        taken.Dispose();
        Assert.True(second.TryClaim(b, 4096, out var claimed, out _));
        claimed!.Dispose();
        Assert.Equal(1, ledger.ParkedFds);
        second.Dispose();
        Assert.Equal(0, ledger.ParkedFds);
    }

    [Fact]
    public void QueuedBytesAndDeviceAllocationsShareTheHostBudget()
    {
        var budget = new HostBudget(1 << 20);
        var ledger = new CrossDomainLedger { BudgetRoom = () => budget.RoomForQueues };
        budget.CrossDomain = ledger;
        Assert.Null(budget.TryCharge("a resource", 600 * 1024));
        Assert.False(ledger.HasRoomFor(500 * 1024)); // 600 KiB of the 1 MiB are held by the device
        Assert.True(ledger.HasRoomFor(400 * 1024));
        var holding = default(CrossDomainLedger.Holding);
        ledger.Report(ref holding, 400 * 1024, 0);
        Assert.NotNull(budget.Refuse("another resource", 100 * 1024)); // and queued bytes count for the device too
        ledger.Report(ref holding, 0, 0);
        Assert.Null(budget.Refuse("another resource", 100 * 1024));
    }
}
