using MiniVmm.Memory;
using MiniVmm.TestSupport;
using MiniVmm.Virtio.Queue;

namespace MiniVmm.Virtio.Tests.Queue;

/// <summary>1 MiB of guest RAM with a mock driver queue at 0x1000 and its device-side <see cref="Virtqueue"/>.</summary>
internal sealed class QueueFixture : IDisposable
{
    public const ulong MemorySize = 1 << 20;

    public QueueFixture(ushort size = 16, bool eventIndex = false)
    {
        Memory = GuestMemory.CreateFlat(MemorySize);
        Driver = new MockSplitQueue(Memory, size, 0x1000, MemorySize, eventIndex);
        Queue = Driver.CreateQueue();
    }

    public GuestMemory Memory { get; }
    public MockSplitQueue Driver { get; }
    public Virtqueue Queue { get; }

    public DescriptorChain PopChain()
    {
        var result = Queue.TryPop();
        Assert.True(result.Status == PopStatus.Chain, $"expected a chain, got {result.Status}: {result.Error}");
        return result.Chain!;
    }

    public QueueError PopError()
    {
        var result = Queue.TryPop();
        Assert.Equal(PopStatus.Error, result.Status);
        return result.Error;
    }

    public void Dispose() => Memory.Dispose();
}
