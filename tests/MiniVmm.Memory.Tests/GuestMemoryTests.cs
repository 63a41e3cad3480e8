namespace MiniVmm.Memory.Tests;

public sealed class GuestMemoryTests : IDisposable
{
    // 64 KiB at 0 and 16 KiB at 1 MiB, with a hole between: the shape of RAM around the PCI hole, in small.
    private readonly GuestMemory _memory = GuestMemory.Create([(new GuestAddress(0), 0x1_0000), (new GuestAddress(0x10_0000), 0x4000)]);

    public void Dispose() => _memory.Dispose();

    [Fact]
    public void ValuesRoundTripInsideARegion()
    {
        Assert.Equal(GuestMemoryError.None, _memory.TryWrite(new GuestAddress(0x100), 0x1122334455667788UL));
        Assert.Equal(GuestMemoryError.None, _memory.TryRead(new GuestAddress(0x100), out ulong value));
        Assert.Equal(0x1122334455667788UL, value);
        Assert.Equal(GuestMemoryError.None, _memory.TryRead(new GuestAddress(0x104), out uint high));
        Assert.Equal(0x11223344u, high); // little-endian, as the guest sees it
    }

    [Fact]
    public void NewRamReadsAsZero()
    {
        var bytes = new byte[64];
        Assert.Equal(GuestMemoryError.None, _memory.TryRead(new GuestAddress(0x10_3FC0), bytes));
        Assert.All(bytes, b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData(0x2_0000UL, 4UL, GuestMemoryError.InvalidAddress)]      // in the hole
    [InlineData(0xFFF8UL, 16UL, GuestMemoryError.PartialBuffer)]       // runs off the end of region 0
    [InlineData(0x10_3FFCUL, 8UL, GuestMemoryError.PartialBuffer)]     // runs off the end of region 1
    [InlineData(0xFFFF_FFFF_FFFF_FFF0UL, 0x20UL, GuestMemoryError.Overflow)] // address + length wraps
    [InlineData(0x10_4000UL, 1UL, GuestMemoryError.InvalidAddress)]    // one past the last byte
    public void HostileRangesAreRefusedWithTheReason(ulong address, ulong length, GuestMemoryError expected)
    {
        Assert.Equal(expected, _memory.TryGetSpan(new GuestAddress(address), length, out var span));
        Assert.True(span.IsEmpty);
    }

    [Fact]
    public void AnAccessNeverSpansTwoRegionsEvenWhenBothExist()
    {
        using var adjacent = GuestMemory.Create([(new GuestAddress(0), 0x1000), (new GuestAddress(0x1000), 0x1000)]);
        Assert.Equal(GuestMemoryError.PartialBuffer, adjacent.TryGetSpan(new GuestAddress(0xFFC), 8, out _));
        Assert.Equal(GuestMemoryError.None, adjacent.TryGetSpan(new GuestAddress(0x1000), 8, out _));
    }

    [Fact]
    public void AContiguousSpanStopsAtTheRegionEnd()
    {
        Assert.Equal(GuestMemoryError.None, _memory.TryGetContiguousSpan(new GuestAddress(0xFF00), 0x1000, out var span));
        Assert.Equal(0x100, span.Length);
        // The rest is in the hole: asking for it is refused, not served from the next region.
        Assert.Equal(GuestMemoryError.InvalidAddress, _memory.TryGetContiguousSpan(new GuestAddress(0x1_0000), 0xF00, out span));
        Assert.True(span.IsEmpty);
        Assert.Equal(GuestMemoryError.None, _memory.TryGetContiguousSpan(new GuestAddress(0x10_0010), 0x20, out span));
        Assert.Equal(0x20, span.Length); // inside: exactly what was asked
    }

    [Theory]
    [InlineData(0x2_0000UL, 4UL, GuestMemoryError.InvalidAddress)]
    [InlineData(0x10_4000UL, 1UL, GuestMemoryError.InvalidAddress)]
    [InlineData(0xFFFF_FFFF_FFFF_FFF0UL, 0x20UL, GuestMemoryError.Overflow)]
    [InlineData(0x100UL, ulong.MaxValue, GuestMemoryError.Overflow)]
    public void ContiguousSpansRefuseHostileStarts(ulong address, ulong length, GuestMemoryError expected)
    {
        Assert.Equal(expected, _memory.TryGetContiguousSpan(new GuestAddress(address), length, out var span));
        Assert.True(span.IsEmpty);
    }

    [Fact]
    public void ContiguousSpansWalkAcrossAdjacentRegionsOnePieceEach()
    {
        using var adjacent = GuestMemory.Create([(new GuestAddress(0), 0x1000), (new GuestAddress(0x1000), 0x1000)]);
        Assert.Equal(GuestMemoryError.None, adjacent.TryGetContiguousSpan(new GuestAddress(0xF00), 0x200, out var first));
        Assert.Equal(0x100, first.Length);
        Assert.Equal(GuestMemoryError.None, adjacent.TryGetContiguousSpan(new GuestAddress(0x1000), 0x100, out var second));
        first.Fill(0xA1);
        second.Fill(0xB2);
        var bytes = new byte[2];
        adjacent.Read(new GuestAddress(0xFFF), bytes.AsSpan(0, 1));
        adjacent.Read(new GuestAddress(0x1000), bytes.AsSpan(1, 1));
        Assert.Equal([0xA1, 0xB2], bytes);
    }

    [Fact]
    public void ContiguousSpansOfHugeLengthsAreCutAtTheRegion()
    {
        Assert.Equal(GuestMemoryError.None, _memory.TryGetContiguousSpan(new GuestAddress(0), 1UL << 40, out var span));
        Assert.Equal(0x1_0000, span.Length);
    }

    [Fact]
    public void HugeLengthsAreRefusedNotTruncated() =>
        Assert.Equal(GuestMemoryError.PartialBuffer, _memory.TryGetSpan(new GuestAddress(0), 1UL << 40, out _));

    [Fact]
    public void ThrowingFormsNameTheAddressForVmmBugs()
    {
        var error = Assert.Throws<GuestMemoryException>(() => _memory.Write(new GuestAddress(0x3_0000), 1u));
        Assert.Equal(GuestMemoryError.InvalidAddress, error.Error);
        Assert.Contains("0x30000", error.Message);
    }

    [Theory]
    [InlineData(0x1001UL, 0x1000UL)]   // unaligned start
    [InlineData(0x1000UL, 0x1001UL)]   // unaligned size
    [InlineData(0x1000UL, 0UL)]        // empty
    public void RegionsMustBePageAlignedAndNonEmpty(ulong start, ulong size) =>
        Assert.Throws<ArgumentException>(() => GuestMemory.Create([(new GuestAddress(start), size)]));

    [Fact]
    public void OverlappingRegionsAreRejected() =>
        Assert.Throws<ArgumentException>(() => GuestMemory.Create([(new GuestAddress(0), 0x2000), (new GuestAddress(0x1000), 0x1000)]));

    [Fact]
    public void RegionsAreSortedWhateverTheOrderGiven()
    {
        using var memory = GuestMemory.Create([(new GuestAddress(0x10_0000), 0x1000), (new GuestAddress(0), 0x1000)]);
        Assert.Equal([0UL, 0x10_0000UL], memory.Regions.Select(r => r.Start.Value));
        Assert.Equal(0x2000UL, memory.TotalSize);
        Assert.All(memory.Regions, r => Assert.True(r.Fd > 2));
    }

    [Fact]
    public void TheSamePagesAreVisibleThroughTheMemfd()
    {
        // What KVM slots and SCM_RIGHTS rely on: the memfd and the mapping are one set of pages.
        Assert.Equal(GuestMemoryError.None, _memory.TryWrite(new GuestAddress(0x10_0010), "hello"u8));
        var region = _memory.Regions[1];
        using var view = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(region.Fd, ownsHandle: false), FileAccess.Read);
        var bytes = new byte[5];
        view.Position = 0x10;
        view.ReadExactly(bytes);
        Assert.Equal("hello"u8.ToArray(), bytes);
    }
}
