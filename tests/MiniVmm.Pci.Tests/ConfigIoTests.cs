using MiniVmm.Pci;

namespace MiniVmm.Pci.Tests;

/// <summary>Ports 0xCF8-0xCFF as Linux's arch/x86/pci/direct.c drives them.</summary>
public sealed class ConfigIoTests
{
    private readonly PciBus _bus;
    private readonly PciConfigIo _io;

    public ConfigIoTests()
    {
        (_bus, _, _, _, _) = TestPlatform.Create();
        _io = new PciConfigIo(_bus);
    }

    private uint In(int port, int size)
    {
        Span<byte> data = stackalloc byte[4];
        _io.Read((ulong)(port - PciConfigIo.ConfigAddressPort), data[..size]);
        return size == 4 ? BitConverter.ToUInt32(data) : BitConverter.ToUInt32(data) & ((1u << (8 * size)) - 1);
    }

    private void Out(int port, int size, uint value) =>
        _io.Write((ulong)(port - PciConfigIo.ConfigAddressPort), BitConverter.GetBytes(value).AsSpan(0, size));

    private static uint Address(int device, int function, int register, int bus = 0) =>
        PciConfigIo.EnableBit | (uint)(bus << 16) | (uint)(device << 11) | (uint)(function << 8) | (uint)register;

    [Fact]
    public void LinuxType1ProbeSeesTheAddressRegisterLatch()
    {
        Out(0xCFB, 1, 0x01);                 // pci_check_type1: outb(0x01, 0xCFB) does not touch the latch
        uint saved = In(0xCF8, 4);
        Out(0xCF8, 4, 0x8000_0000);
        Assert.Equal(0x8000_0000u, In(0xCF8, 4));
        Out(0xCF8, 4, saved);
        Assert.Equal(0u, In(0xCF8, 4));
    }

    [Fact]
    public void TheAddressRegisterKeepsOnlyItsDefinedBits()
    {
        Out(0xCF8, 4, 0xFFFF_FFFF);
        Assert.Equal(0x80FF_FFFCu, In(0xCF8, 4));
        Assert.Equal(0xFFu, In(0xCF9, 1)); // a byte read is ordinary I/O nobody claims
        Assert.Equal(0xFFFFu, In(0xCF8, 2));
    }

    [Fact]
    public void HostBridgePassesLinuxSanityCheck()
    {
        Out(0xCF8, 4, Address(0, 0, 0x08));
        Assert.Equal(0x0600u, In(0xCFE, 2)); // PCI_CLASS_DEVICE, read as a word at data port + 2
        Out(0xCF8, 4, Address(0, 0, 0x00));
        Assert.Equal(0x8086u, In(0xCFC, 2));
    }

    [Fact]
    public void DisabledAddressReadsAllOnesAndDropsWrites()
    {
        Out(0xCF8, 4, 0x0000_0004); // enable bit clear: command register of 00:00.0, but not decoded
        Out(0xCFC, 2, 0x0006);
        Assert.Equal(0xFFFF_FFFFu, In(0xCFC, 4));
        Out(0xCF8, 4, Address(0, 0, 0x04));
        Assert.Equal(0u, In(0xCFC, 2));
    }

    [Theory]
    [InlineData(5, 0)]    // empty slot
    [InlineData(0, 1)]    // function 1 of a single-function device
    [InlineData(0, 0, 1)] // bus 1 does not exist
    public void AbsentFunctionsReadAllOnes(int device, int function, int bus = 0)
    {
        Out(0xCF8, 4, Address(device, function, 0, bus));
        Assert.Equal(0xFFFF_FFFFu, In(0xCFC, 4));
        Assert.Equal(0xFFFFu, In(0xCFE, 2));
        Assert.Equal(0xFFu, In(0xCFF, 1));
    }

    [Fact]
    public void ByteAndWordLanesSelectTheRightBytes()
    {
        var device = new FakePciDevice();
        var address = _bus.Add(device);
        Out(0xCF8, 4, Address(address.Device, 0, 0x00));
        Assert.Equal(0x5678_1234u, In(0xCFC, 4));
        Assert.Equal(0x34u, In(0xCFC, 1));
        Assert.Equal(0x12u, In(0xCFD, 1));
        Assert.Equal(0x5678u, In(0xCFE, 2));
        Assert.Equal(0x56u, In(0xCFF, 1));
        Out(0xCF8, 4, Address(address.Device, 0, 0x3C));
        Out(0xCFC, 1, 9);                   // interrupt line, a byte write at lane 0
        Assert.Equal(9u, In(0xCFC, 1));
        Out(0xCF8, 4, Address(address.Device, 0, 0x0C));
        Out(0xCFD, 1, 0x40);                // latency timer: lane 1 of register 0x0C
        Assert.Equal(0x4000u, In(0xCFC, 2));
    }

    [Fact]
    public void AnAccessStraddlingTheDataWindowIsNotDecoded()
    {
        Out(0xCF8, 4, Address(0, 0, 0));
        Span<byte> data = stackalloc byte[4];
        _io.Read(6, data); // a dword at 0xCFE would cross into 0xD00
        Assert.Equal(0xFFFF_FFFFu, BitConverter.ToUInt32(data));
    }
}
