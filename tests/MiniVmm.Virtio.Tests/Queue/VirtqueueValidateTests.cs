using MiniVmm.Memory;
using MiniVmm.Virtio.Queue;

namespace MiniVmm.Virtio.Tests.Queue;

public sealed class VirtqueueValidateTests : IDisposable
{
    private readonly GuestMemory _memory = GuestMemory.CreateFlat(1 << 20);

    public void Dispose() => _memory.Dispose();

    private string? Validate(ushort size, ulong desc, ulong avail, ulong used)
    {
        var queue = new Virtqueue(_memory, size, new GuestAddress(desc), new GuestAddress(avail), new GuestAddress(used), false);
        return queue.Validate(out string? error) ? null : error;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(256)]
    [InlineData(32768)]
    public void PowerOfTwoSizesAreAccepted(ushort size) =>
        Assert.Null(Validate(size, 0x0, 0x80000, 0x90000));

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(100)]
    [InlineData(65535)]
    public void OtherSizesAreRejected(ushort size) =>
        Assert.Contains("power of two", Validate(size, 0x0, 0x80000, 0x90000));

    [Theory]
    [InlineData(0x1008UL, 0x2000UL, 0x3000UL, "descriptor table")]
    [InlineData(0x1000UL, 0x2001UL, 0x3000UL, "available ring")]
    [InlineData(0x1000UL, 0x2000UL, 0x3002UL, "used ring")]
    public void MisalignedRingsAreRejected(ulong desc, ulong avail, ulong used, string which)
    {
        string? error = Validate(16, desc, avail, used);
        Assert.Contains(which, error);
        Assert.Contains("aligned", error);
    }

    [Fact]
    public void RingsOutsideMemoryAreRejected()
    {
        Assert.Contains("descriptor table", Validate(16, 0x200000, 0x2000, 0x3000));
        // The used ring starts inside RAM but its last bytes (6 + 8 * 16) run past the end.
        Assert.Contains("used ring", Validate(16, 0x1000, 0x2000, (1 << 20) - 64));
        Assert.Contains("available ring", Validate(16, 0x1000, (1 << 20) - 2, 0x3000));
    }

    [Fact]
    public void RingsThatWrapTheAddressSpaceAreRejected()
    {
        string? error = Validate(16, 0xFFFF_FFFF_FFFF_FFF0, 0x2000, 0x3000);
        Assert.Contains("Overflow", error);
    }

    [Fact]
    public void UsingAnUnvalidatedQueueIsAHostBug()
    {
        var queue = new Virtqueue(_memory, 3, new GuestAddress(0), new GuestAddress(0x1000), new GuestAddress(0x2000), false);
        Assert.False(queue.Validate(out _));
        Assert.Throws<InvalidOperationException>(() => queue.TryPop());
    }
}
