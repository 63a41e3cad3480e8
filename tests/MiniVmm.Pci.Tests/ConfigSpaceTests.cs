using MiniVmm.Pci;
using static MiniVmm.Pci.PciConfigSpace;

namespace MiniVmm.Pci.Tests;

public sealed class ConfigSpaceTests
{
    private static PciConfigSpace NewConfig() => new(new PciIdentity(0x1AF4, 0x1050, 0x03_80_00, Revision: 1, SubsystemVendorId: 0x1AF4, SubsystemId: 0x1100));

    private static uint Read(PciConfigSpace config, int offset, int size)
    {
        Span<byte> data = stackalloc byte[4];
        config.Read(offset, data[..size]);
        return BitConverter.ToUInt32(data) & (size == 4 ? 0xFFFF_FFFF : (1u << (8 * size)) - 1);
    }

    private static void Write(PciConfigSpace config, int offset, int size, uint value) =>
        config.Write(offset, BitConverter.GetBytes(value).AsSpan(0, size));

    [Fact]
    public void IdentityRegistersReadAsDeclared()
    {
        var config = NewConfig();
        Assert.Equal(0x1050_1AF4u, Read(config, PCI_VENDOR_ID, 4));
        Assert.Equal(0x0380_0001u, Read(config, PCI_REVISION_ID, 4)); // class 03/80, prog-if 0, revision 1
        Assert.Equal(0x0380u, Read(config, PCI_CLASS_DEVICE, 2));
        Assert.Equal(0x1100_1AF4u, Read(config, PCI_SUBSYSTEM_VENDOR_ID, 4));
        Assert.Equal(0u, Read(config, PCI_HEADER_TYPE, 1));
    }

    [Fact]
    public void ReadOnlyRegistersIgnoreWrites()
    {
        var config = NewConfig();
        Write(config, PCI_VENDOR_ID, 4, 0xDEAD_BEEF);
        Write(config, PCI_REVISION_ID, 4, 0xFFFF_FFFF);
        Write(config, PCI_HEADER_TYPE, 1, 0x80);
        Assert.Equal(0x1050_1AF4u, Read(config, PCI_VENDOR_ID, 4));
        Assert.Equal(0x0380_0001u, Read(config, PCI_REVISION_ID, 4));
        Assert.Equal(0u, Read(config, PCI_HEADER_TYPE, 1));
    }

    [Fact]
    public void CommandKeepsOnlyItsDefinedBits()
    {
        var config = NewConfig();
        Write(config, PCI_COMMAND, 2, 0xFFFF);
        Assert.Equal(0x0547u, Read(config, PCI_COMMAND, 2));
        Write(config, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
        Assert.Equal((uint)PCI_COMMAND_MEMORY, Read(config, PCI_COMMAND, 2));
    }

    [Fact]
    public void StatusErrorBitsAreWriteOneToClearAndCapListIsReadOnly()
    {
        var config = NewConfig();
        config.SetValue(PCI_STATUS, 2, PCI_STATUS_CAP_LIST | PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_DETECTED_PARITY);
        Write(config, PCI_STATUS, 2, PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_CAP_LIST);
        Assert.Equal((uint)(PCI_STATUS_CAP_LIST | PCI_STATUS_DETECTED_PARITY), Read(config, PCI_STATUS, 2));
        Write(config, PCI_STATUS, 2, 0);
        Assert.Equal((uint)(PCI_STATUS_CAP_LIST | PCI_STATUS_DETECTED_PARITY), Read(config, PCI_STATUS, 2));
    }

    [Fact]
    public void SoftwareScratchRegistersAreWritable()
    {
        var config = NewConfig();
        Write(config, PCI_CACHE_LINE_SIZE, 2, 0x4010);
        Write(config, PCI_INTERRUPT_LINE, 1, 11);
        Assert.Equal(0x4010u, Read(config, PCI_CACHE_LINE_SIZE, 2));
        Assert.Equal(11u, Read(config, PCI_INTERRUPT_LINE, 1));
        Write(config, PCI_INTERRUPT_PIN, 1, 3);
        Assert.Equal(0u, Read(config, PCI_INTERRUPT_PIN, 1));
    }

    [Fact]
    public void AccessesPastTheEndReadAllOnesAndWritesVanish()
    {
        var config = NewConfig();
        Span<byte> data = stackalloc byte[4];
        config.Read(0xFE, data);
        Assert.Equal(0xFF, data[2]);
        Assert.Equal(0xFF, data[3]);
        config.Write(0x100, [1, 2, 3, 4]);
        config.Read(0x400, data);
        Assert.Equal(0xFFFF_FFFFu, BitConverter.ToUInt32(data));
    }

    [Fact]
    public void WriteHooksRunForOverlappingWritesOnly()
    {
        var config = NewConfig();
        var calls = new List<(int, int)>();
        config.AddWriteHook(0x40, 2, (offset, length) => calls.Add((offset, length)));
        Write(config, 0x3C, 4, 0);
        Write(config, 0x41, 1, 0);
        Write(config, 0x42, 2, 0);
        Assert.Equal([(0x41, 1)], calls);
    }

    [Fact]
    public void RomBarReadsZeroAfterSizing()
    {
        var config = NewConfig();
        Write(config, PCI_ROM_ADDRESS, 4, 0xFFFF_FFFE);
        Assert.Equal(0u, Read(config, PCI_ROM_ADDRESS, 4));
    }
}
