using MiniVmm.Pci;
using static MiniVmm.Pci.PciConfigSpace;

namespace MiniVmm.Pci.Tests;

public sealed class PciBusTests
{
    [Fact]
    public void DevicesGetSlotsAfterTheHostBridgeAndPreassignedBars()
    {
        var (bus, _, _, _, _) = TestPlatform.Create();
        var first = new FakePciDevice(new PciBarDefinition(0, 0x4000, PciBarKind.Memory32));
        var second = new FakePciDevice(new PciBarDefinition(0, 0x1000, PciBarKind.Memory32), new PciBarDefinition(2, 1UL << 30, PciBarKind.Memory64, prefetchable: true));
        Assert.Equal(new PciAddress(0, 1, 0), bus.Add(first));
        Assert.Equal(new PciAddress(0, 2, 0), bus.Add(second));
        Assert.Equal(0xC000_0000UL, first.Config.GetBarAddress(0));
        Assert.Equal(0xC000_4000UL, second.Config.GetBarAddress(0));
        Assert.Equal(0x10_0000_0000UL, second.Config.GetBarAddress(2));
        Assert.NotNull(first.Context);
        Assert.Equal(new PciAddress(0, 1, 0), first.Context!.Address);
        Assert.Throws<InvalidOperationException>(() => bus.Add(new FakePciDevice(), 1));
    }

    [Fact]
    public void BarsAreMappedOnlyWhileMemoryDecodingIsOn()
    {
        var (bus, memory, _, _, _) = TestPlatform.Create();
        var device = new FakePciDevice(new PciBarDefinition(0, 0x4000, PciBarKind.Memory32));
        var address = bus.Add(device);
        Assert.Empty(memory.Ranges);
        Assert.Empty(device.Moves);

        bus.WriteConfig16(address, PCI_COMMAND, PCI_COMMAND_MEMORY);
        Assert.Equal([(0xC000_0000UL, 0x4000UL)], memory.Ranges);
        Assert.Equal([(0, (ulong?)0xC000_0000)], device.Moves);
        Assert.Equal(0xB0_0008u, memory.Read32(0xC000_0008));
        memory.Write32(0xC000_0010, 42);
        Assert.Equal([(0, 0x10UL, 42u)], device.Writes);

        bus.WriteConfig16(address, PCI_COMMAND, 0);
        Assert.Empty(memory.Ranges);
        Assert.Equal((0, (ulong?)null), device.Moves[^1]);
    }

    [Fact]
    public void MovingABarRemapsItAndSizingWithDecodeOffMapsNothing()
    {
        var (bus, memory, _, _, _) = TestPlatform.Create();
        var device = new FakePciDevice(new PciBarDefinition(0, 0x4000, PciBarKind.Memory32));
        var address = bus.Add(device);
        // Linux sizes with decoding off, then assigns and enables.
        bus.WriteConfig32(address, BarRegister(0), 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_C000u, bus.ReadConfig32(address, BarRegister(0)));
        bus.WriteConfig32(address, BarRegister(0), 0xD000_0000);
        Assert.Empty(memory.Ranges);
        bus.WriteConfig16(address, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
        Assert.Equal([(0xD000_0000UL, 0x4000UL)], memory.Ranges);
        bus.WriteConfig32(address, BarRegister(0), 0xE000_0000);
        Assert.Equal([(0xE000_0000UL, 0x4000UL)], memory.Ranges);
        Assert.Equal(0xE000_0000UL, bus.GetMappedAddress(address, 0));
        Assert.Equal([(0, (ulong?)0xD000_0000), (0, (ulong?)0xE000_0000)], device.Moves);
    }

    [Fact]
    public void A64BitBarMovesOnlyWhenItsHalvesAreWritten()
    {
        var (bus, memory, _, _, _) = TestPlatform.Create();
        var device = new FakePciDevice(new PciBarDefinition(2, 1UL << 30, PciBarKind.Memory64, prefetchable: true));
        var address = bus.Add(device);
        bus.WriteConfig16(address, PCI_COMMAND, PCI_COMMAND_MEMORY);
        Assert.Equal([(0x10_0000_0000UL, 1UL << 30)], memory.Ranges);
        bus.WriteConfig32(address, BarRegister(3), 0x20);
        Assert.Equal([(0x20_0000_0000UL, 1UL << 30)], memory.Ranges);
    }

    [Fact]
    public void ClashingOrZeroBarsDecodeNothingUntilMoved()
    {
        var (bus, memory, _, _, _) = TestPlatform.Create();
        var a = new FakePciDevice(new PciBarDefinition(0, 0x1000, PciBarKind.Memory32));
        var b = new FakePciDevice(new PciBarDefinition(0, 0x1000, PciBarKind.Memory32));
        var addressA = bus.Add(a);
        var addressB = bus.Add(b);
        bus.WriteConfig16(addressA, PCI_COMMAND, PCI_COMMAND_MEMORY);
        bus.WriteConfig32(addressB, BarRegister(0), 0xC000_0000); // on top of a's BAR
        bus.WriteConfig16(addressB, PCI_COMMAND, PCI_COMMAND_MEMORY);
        Assert.Null(bus.GetMappedAddress(addressB, 0));
        Assert.Single(memory.Ranges);
        bus.WriteConfig32(addressB, BarRegister(0), 0xC000_2000);
        Assert.Equal(0xC000_2000UL, bus.GetMappedAddress(addressB, 0));
        bus.WriteConfig32(addressB, BarRegister(0), 0);
        Assert.Null(bus.GetMappedAddress(addressB, 0));
    }

    [Fact]
    public void IoBarsFollowTheIoDecodeBit()
    {
        var (bus, memory, io, _, _) = TestPlatform.Create();
        var device = new FakePciDevice(new PciBarDefinition(0, 0x20, PciBarKind.Io));
        var address = bus.Add(device);
        bus.WriteConfig16(address, PCI_COMMAND, PCI_COMMAND_MEMORY);
        Assert.Empty(io.Ranges);
        bus.WriteConfig16(address, PCI_COMMAND, PCI_COMMAND_IO);
        Assert.Equal([(0xC000UL, 0x20UL)], io.Ranges);
        Assert.Empty(memory.Ranges);
    }

    [Fact]
    public void IntxPinsAreWiredToSwizzledGsisAndListedForTheMpTable()
    {
        var (bus, _, _, _, lines) = TestPlatform.Create();
        var withPin = new FakePciDevice();
        withPin.Config.SetRegister(PCI_INTERRUPT_PIN, 1, PCI_INTERRUPT_PIN_INTA);
        var without = new FakePciDevice();
        var first = bus.Add(withPin, 3);
        bus.Add(without);
        Assert.Equal([new PciIntxRoute(3, 0, 19)], bus.IntxRoutes);
        Assert.Equal((byte)19, withPin.Context!.IntxGsi);
        Assert.Same(lines[19], withPin.Context.Intx);
        Assert.Null(without.Context!.Intx);
        Assert.Equal(19u, bus.ReadConfig32(first, PCI_INTERRUPT_LINE) & 0xFF);
    }
}
