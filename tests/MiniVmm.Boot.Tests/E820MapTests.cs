using MiniVmm.Memory;

namespace MiniVmm.Boot.Tests;

public sealed class E820MapTests
{
    private const ulong MiB = 1 << 20;
    private const ulong GiB = 1 << 30;

    [Fact]
    public void FlatMemoryGivesLowRamReservedAreaAndHighRam()
    {
        using var memory = GuestMemory.CreateFlat(64 * MiB);
        var map = E820Map.Build(memory);
        Assert.Equal(
        [
            new E820Entry(0, 0x9FC00, E820Entry.Ram),
            new E820Entry(0x9FC00, 0x100000 - 0x9FC00, E820Entry.Reserved),
            new E820Entry(0x100000, (64 * MiB) - 0x100000, E820Entry.Ram),
        ], map);
    }

    [Fact]
    public void RamAboveFourGiBIsItsOwnEntryAndInputOrderDoesNotMatter()
    {
        var map = E820Map.Build([new PhysicalRange(4 * GiB, 6 * GiB), new PhysicalRange(0, 3 * GiB)]);
        Assert.Equal(4, map.Length);
        Assert.Equal(new E820Entry(0x100000, (3 * GiB) - 0x100000, E820Entry.Ram), map[2]);
        Assert.Equal(new E820Entry(4 * GiB, 2 * GiB, E820Entry.Ram), map[3]);
        AssertSortedAndDisjoint(map);
    }

    [Fact]
    public void AdjacentRamMergesAndReservedAreaIsAlwaysPresent()
    {
        var map = E820Map.Build([new PhysicalRange(0, 2 * MiB), new PhysicalRange(2 * MiB, 8 * MiB)]);
        Assert.Equal(3, map.Length);
        Assert.Equal(new E820Entry(0x100000, 7 * MiB, E820Entry.Ram), map[2]);
        Assert.Equal(E820Entry.Reserved, map[1].Type);
    }

    [Fact]
    public void OverlappingRamIsRefused() =>
        Assert.Throws<BootException>(() => E820Map.Build([new PhysicalRange(0, 8 * MiB), new PhysicalRange(4 * MiB, 16 * MiB)]));

    [Fact]
    public void MoreThan128EntriesIsRefused()
    {
        var ranges = Enumerable.Range(0, 200).Select(i => new PhysicalRange((16 * MiB) + ((ulong)i * 2 * MiB), (16 * MiB) + ((ulong)i * 2 * MiB) + MiB));
        var e = Assert.Throws<BootException>(() => E820Map.Build(ranges));
        Assert.Contains("128", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GuestMemoryWithTwoRegions()
    {
        using var memory = GuestMemory.Create([(new GuestAddress(0), 32 * MiB), (new GuestAddress(64 * MiB), 16 * MiB)]);
        var map = E820Map.Build(memory);
        Assert.Equal(4, map.Length);
        Assert.Equal(new E820Entry(64 * MiB, 16 * MiB, E820Entry.Ram), map[3]);
        AssertSortedAndDisjoint(map);
    }

    private static void AssertSortedAndDisjoint(E820Entry[] map)
    {
        for (int i = 1; i < map.Length; i++)
            Assert.True(map[i].Addr >= map[i - 1].End, $"{map[i - 1]} then {map[i]}");
    }
}
