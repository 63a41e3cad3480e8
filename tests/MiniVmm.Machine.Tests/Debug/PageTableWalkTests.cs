using MiniVmm.Machine.Debug;
using MiniVmm.Memory;

namespace MiniVmm.Machine.Tests.Debug;

public sealed class PageTableWalkTests : IDisposable
{
    private const ulong Present = 1, Writable = 2, Large = 0x80;
    private const ulong Cr0PagingAndProtection = (1UL << 31) | 1, EferLongMode = (1 << 10) | (1 << 8), Cr4Pae = 1 << 5;
    private const ulong Pml4 = 0x1000, Pdpt = 0x2000, Pd = 0x3000, Pt = 0x4000;
    private readonly GuestMemory _memory = GuestMemory.CreateFlat(16UL << 20);

    public void Dispose() => _memory.Dispose();

    private static PagingState LongMode => new(Cr0PagingAndProtection, Pml4, Cr4Pae, EferLongMode);

    private static ulong Index(ulong virtualAddress, int level) => (virtualAddress >> (12 + (9 * (level - 1)))) & 0x1FF;

    /// <summary>Maps <paramref name="virtualAddress"/> through PML4 → PDPT (→ PD (→ PT)) at the fixed tables above.</summary>
    private void Map(ulong virtualAddress, ulong pdptEntry = 0, ulong pdEntry = 0, ulong ptEntry = 0)
    {
        _memory.Write(new GuestAddress(Pml4 + (Index(virtualAddress, 4) * 8)), Pdpt | Present | Writable);
        _memory.Write(new GuestAddress(Pdpt + (Index(virtualAddress, 3) * 8)), pdptEntry != 0 ? pdptEntry : Pd | Present | Writable);
        if (pdptEntry != 0)
            return;
        _memory.Write(new GuestAddress(Pd + (Index(virtualAddress, 2) * 8)), pdEntry != 0 ? pdEntry : Pt | Present | Writable);
        if (pdEntry == 0)
            _memory.Write(new GuestAddress(Pt + (Index(virtualAddress, 1) * 8)), ptEntry);
    }

    [Fact]
    public void A4KPageOfTheKernelsTextMapsToItsFrame()
    {
        const ulong text = 0xFFFF_FFFF_811E_660D;
        Map(text, ptEntry: 0x0054_3000 | Present);
        Assert.True(PageTableWalk.TryTranslate(_memory, LongMode, text, out var physical, out bool writable));
        Assert.Equal(0x0054_360DUL, physical.Value);
        Assert.False(writable);
    }

    [Fact]
    public void A2MPageKeepsTheLow21Bits()
    {
        const ulong address = 0xFFFF_8880_0123_4567;
        Map(address, pdEntry: 0x0060_0000 | Present | Writable | Large);
        Assert.True(PageTableWalk.TryTranslate(_memory, LongMode, address, out var physical, out bool writable));
        Assert.Equal(0x0060_0000UL | (address & 0x1F_FFFF), physical.Value);
        Assert.True(writable);
    }

    [Fact]
    public void A1GPageKeepsTheLow30Bits()
    {
        const ulong address = 0x0000_0040_0ABC_DEF0;
        Map(address, pdptEntry: 0x4000_0000 | Present | Large);
        Assert.True(PageTableWalk.TryTranslate(_memory, LongMode, address, out var physical));
        Assert.Equal(0x4000_0000UL | (address & 0x3FFF_FFFF), physical.Value);
    }

    [Fact]
    public void ANotPresentEntryOrATableOutsideRamIsNotMapped()
    {
        const ulong address = 0xFFFF_FFFF_8100_0000;
        Map(address, ptEntry: 0x0010_0000); // not present
        Assert.False(PageTableWalk.TryTranslate(_memory, LongMode, address, out _));
        Map(address, pdEntry: 0x7_0000_0000 | Present); // a page table beyond the 16 MiB of RAM
        Assert.False(PageTableWalk.TryTranslate(_memory, LongMode, address, out _));
    }

    [Fact]
    public void WithoutPagingVirtualIsPhysicalAndLegacyPagingIsNotWalked()
    {
        Assert.True(PageTableWalk.TryTranslate(_memory, new PagingState(1, 0, 0, 0), 0x1234, out var physical));
        Assert.Equal(0x1234UL, physical.Value);
        Assert.False(PageTableWalk.TryTranslate(_memory, new PagingState(Cr0PagingAndProtection, Pml4, 0, 0), 0x1234, out _));
    }
}
