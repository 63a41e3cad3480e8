using MiniVmm.Pci;
using static MiniVmm.Pci.PciConfigSpace;

namespace MiniVmm.Pci.Tests;

/// <summary>The BAR sizing handshake exactly as Linux's __pci_read_base does it.</summary>
public sealed class BarTests
{
    private static PciConfigSpace WithBars(params PciBarDefinition[] bars)
    {
        var config = new PciConfigSpace(new PciIdentity(0x1234, 0x0001, 0xFF_00_00));
        foreach (var bar in bars)
            config.DeclareBar(bar);
        return config;
    }

    private static uint Read32(PciConfigSpace config, int offset)
    {
        Span<byte> data = stackalloc byte[4];
        config.Read(offset, data);
        return BitConverter.ToUInt32(data);
    }

    private static void Write32(PciConfigSpace config, int offset, uint value) => config.Write(offset, BitConverter.GetBytes(value));

    /// <summary>Save, write all ones, read the mask, restore: returns the mask.</summary>
    private static uint Size(PciConfigSpace config, int offset)
    {
        uint original = Read32(config, offset);
        Write32(config, offset, 0xFFFF_FFFF);
        uint mask = Read32(config, offset);
        Write32(config, offset, original);
        Assert.Equal(original, Read32(config, offset));
        return mask;
    }

    [Theory]
    [InlineData(0x10UL)]
    [InlineData(0x8000UL)]
    [InlineData(0x1000_0000UL)]
    public void Memory32SizingReadsBackComplementOfSizeMinusOne(ulong size)
    {
        var config = WithBars(new PciBarDefinition(0, size, PciBarKind.Memory32));
        config.SetBarAddress(0, 0xC000_0000);
        uint mask = Size(config, BarRegister(0));
        Assert.Equal(~((uint)size - 1) & PCI_BASE_ADDRESS_MEM_MASK, mask);
        Assert.Equal(size, (ulong)(~(mask & PCI_BASE_ADDRESS_MEM_MASK) + 1));
        Assert.Equal(0xC000_0000UL, config.GetBarAddress(0));
    }

    [Fact]
    public void PrefetchableMemory32KeepsItsFlagBit()
    {
        var config = WithBars(new PciBarDefinition(1, 0x1000, PciBarKind.Memory32, prefetchable: true));
        Assert.Equal(0xFFFF_F000u | PCI_BASE_ADDRESS_MEM_PREFETCH, Size(config, BarRegister(1)));
    }

    [Fact]
    public void Memory64SizingSpansTwoRegisters()
    {
        var config = WithBars(new PciBarDefinition(2, 8UL << 30, PciBarKind.Memory64, prefetchable: true));
        config.SetBarAddress(2, 0x10_0000_0000);
        Assert.Equal(0x0000_0010u, Read32(config, BarRegister(3)));
        uint low = Size(config, BarRegister(2));
        uint high = Size(config, BarRegister(3));
        Assert.Equal(PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH, low); // no address bits below 8 GiB
        Assert.Equal(0xFFFF_FFFEu, high);
        ulong mask = ((ulong)high << 32) | (low & PCI_BASE_ADDRESS_MEM_MASK);
        Assert.Equal(8UL << 30, ~mask + 1);
        Assert.Equal(0x10_0000_0000UL, config.GetBarAddress(2));
    }

    [Fact]
    public void GuestCanMoveA64BitBarAndTheAddressIsTheCombination()
    {
        var config = WithBars(new PciBarDefinition(0, 0x4000, PciBarKind.Memory64));
        Write32(config, BarRegister(0), 0xE000_0000);
        Write32(config, BarRegister(1), 0x0000_0002);
        Assert.Equal(0x2_E000_0000UL, config.GetBarAddress(0));
        Write32(config, BarRegister(0), 0xE000_1234); // low bits below the size are not writable
        Assert.Equal(0x2_E000_0000UL, config.GetBarAddress(0));
    }

    [Fact]
    public void IoBarSizingHasTheIoBitAndSixteenAddressBits()
    {
        var config = WithBars(new PciBarDefinition(4, 0x20, PciBarKind.Io));
        Assert.Equal(0x0000_FFE0u | PCI_BASE_ADDRESS_SPACE_IO, Size(config, BarRegister(4)));
    }

    [Fact]
    public void UndeclaredBarsReadZeroEvenAfterAllOnes()
    {
        var config = WithBars(new PciBarDefinition(0, 0x1000, PciBarKind.Memory32));
        Assert.Equal(0u, Size(config, BarRegister(5)));
    }

    [Fact]
    public void DeclarationsAreValidated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PciBarDefinition(0, 0x3000, PciBarKind.Memory32));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PciBarDefinition(5, 0x1000, PciBarKind.Memory64));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PciBarDefinition(0, 0x200, PciBarKind.Io));
        var config = WithBars(new PciBarDefinition(0, 0x1000, PciBarKind.Memory64));
        Assert.Throws<InvalidOperationException>(() => config.DeclareBar(new PciBarDefinition(1, 0x1000, PciBarKind.Memory32)));
        Assert.Throws<ArgumentException>(() => config.SetBarAddress(0, 0xC000_0800));
    }

    [Fact]
    public void AllocatorAlignsNaturallyAndPutsLargePrefetchableBarsHigh()
    {
        var allocator = PciBarAllocator.CreateDefault(ramEnd: 0x1_4000_0000, physicalAddressBits: 46);
        Assert.Equal(0xC000_0000UL, allocator.Allocate(new PciBarDefinition(0, 0x8000, PciBarKind.Memory32)));
        Assert.Equal(0xC001_0000UL, allocator.Allocate(new PciBarDefinition(0, 0x10000, PciBarKind.Memory32)));
        Assert.Equal(0xC002_0000UL, allocator.Allocate(new PciBarDefinition(1, 0x1000, PciBarKind.Memory64)));
        Assert.Equal(0x10_0000_0000UL, allocator.Allocate(new PciBarDefinition(2, 8UL << 30, PciBarKind.Memory64, prefetchable: true)));
        Assert.Equal(0x12_0000_0000UL, allocator.Allocate(new PciBarDefinition(2, 8UL << 30, PciBarKind.Memory64, prefetchable: true)));
        Assert.Equal(0xC000UL, allocator.Allocate(new PciBarDefinition(4, 0x40, PciBarKind.Io)));
    }

    [Fact]
    public void DefaultHighWindowStaysAboveRamAndBelowTheAddressWidth()
    {
        var big = PciBarAllocator.CreateDefault(ramEnd: 0x20_4000_0000, physicalAddressBits: 48);
        Assert.Equal(new PciWindow(0x30_0000_0000, 1UL << 46), big.Mmio64);
        var narrow = PciBarAllocator.CreateDefault(ramEnd: 0x4000_0000, physicalAddressBits: 39);
        Assert.Equal(new PciWindow(0x10_0000_0000, 1UL << 39), narrow.Mmio64);
    }

    [Fact]
    public void AFullWindowIsAConfigurationError()
    {
        var allocator = new PciBarAllocator(new PciWindow(0xC000_0000, 0xC000_2000), default, PciBarAllocator.DefaultIo);
        allocator.Allocate(new PciBarDefinition(0, 0x2000, PciBarKind.Memory32));
        var error = Assert.Throws<InvalidOperationException>(() => allocator.Allocate(new PciBarDefinition(0, 0x1000, PciBarKind.Memory32)));
        Assert.Contains("no room", error.Message);
        // A 64-bit prefetchable BAR falls back to the 32-bit window when there is no high window.
        Assert.Throws<InvalidOperationException>(() => allocator.Allocate(new PciBarDefinition(0, 0x1000, PciBarKind.Memory64, prefetchable: true)));
    }
}
