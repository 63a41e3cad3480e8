using MiniVmm.Pci;
using static MiniVmm.Pci.PciConfigSpace;

namespace MiniVmm.Pci.Tests;

public sealed class CapabilityTests
{
    private static byte Byte(PciConfigSpace config, int offset)
    {
        Span<byte> data = stackalloc byte[1];
        config.Read(offset, data);
        return data[0];
    }

    /// <summary>Walks the list the way pci_find_capability does: status bit 4, pointer at 0x34, next pointers.</summary>
    private static List<(int Offset, byte Id)> Walk(PciConfigSpace config)
    {
        var found = new List<(int, byte)>();
        if ((config.ReadWord(PCI_STATUS) & PCI_STATUS_CAP_LIST) == 0)
            return found;
        int pointer = Byte(config, PCI_CAPABILITY_LIST);
        while (pointer != 0 && found.Count < 48)
        {
            found.Add((pointer, Byte(config, pointer)));
            pointer = Byte(config, pointer + 1) & ~3;
        }
        return found;
    }

    [Fact]
    public void NoCapabilitiesMeansStatusBitClear()
    {
        var config = new PciConfigSpace(new PciIdentity(1, 2, 0xFF_00_00));
        Assert.Empty(Walk(config));
        Assert.Equal(0, Byte(config, PCI_CAPABILITY_LIST));
    }

    [Fact]
    public void CapabilitiesChainFromThePointerAtDwordAlignedOffsets()
    {
        var config = new PciConfigSpace(new PciIdentity(1, 2, 0xFF_00_00));
        int first = config.AddCapability(PCI_CAP_ID_VNDR, [14, 1, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
        int second = config.AddCapability(0x05, [1]); // 3 bytes long: the next one must be realigned
        int third = config.AddCapability(PCI_CAP_ID_VNDR, [20, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        Assert.Equal(0x40, first);
        Assert.Equal(0x50, second);
        Assert.Equal(0x54, third);
        Assert.Equal([(0x40, PCI_CAP_ID_VNDR), (0x50, (byte)0x05), (0x54, PCI_CAP_ID_VNDR)], Walk(config));
        Assert.Equal([0x40, 0x54], config.FindCapabilities(PCI_CAP_ID_VNDR));
        Assert.Equal(14, Byte(config, 0x42));
    }

    [Fact]
    public void CapabilityBodiesAreReadOnlyUnlessMasked()
    {
        var config = new PciConfigSpace(new PciIdentity(1, 2, 0xFF_00_00));
        int offset = config.AddCapability(0x10, [0xAA, 0xBB], [0x00, 0x0F]);
        config.Write(offset, [0xFF, 0xFF, 0xFF, 0xFF]);
        Assert.Equal(0x10, Byte(config, offset));
        Assert.Equal(0, Byte(config, offset + 1));
        Assert.Equal(0xAA, Byte(config, offset + 2));
        Assert.Equal(0xBF, Byte(config, offset + 3));
    }

    [Fact]
    public void MsixCapabilityAdvertisesTableAndPba()
    {
        var config = new PciConfigSpace(new PciIdentity(1, 2, 0xFF_00_00));
        var msix = new MsixCapability(config, vectorCount: 3, bar: 0, tableOffset: 0x4000, pbaOffset: 0x5000);
        Assert.Equal([(msix.CapabilityOffset, PCI_CAP_ID_MSIX)], Walk(config));
        Assert.Equal(2, config.ReadWord(msix.CapabilityOffset + MsixCapability.PCI_MSIX_FLAGS)); // table size - 1
        Assert.Equal(0x4000u, config.ReadDword(msix.CapabilityOffset + MsixCapability.PCI_MSIX_TABLE));
        Assert.Equal(0x5000u, config.ReadDword(msix.CapabilityOffset + MsixCapability.PCI_MSIX_PBA));
        // Only enable and function mask are writable in message control.
        config.Write(msix.CapabilityOffset + MsixCapability.PCI_MSIX_FLAGS, [0xFF, 0xFF]);
        Assert.Equal(0xC002, config.ReadWord(msix.CapabilityOffset + MsixCapability.PCI_MSIX_FLAGS));
        config.Write(msix.CapabilityOffset + MsixCapability.PCI_MSIX_TABLE, [0, 0, 0, 0]);
        Assert.Equal(0x4000u, config.ReadDword(msix.CapabilityOffset + MsixCapability.PCI_MSIX_TABLE));
    }

    [Fact]
    public void ConfigSpaceOverflowIsAVmmError()
    {
        var config = new PciConfigSpace(new PciIdentity(1, 2, 0xFF_00_00));
        for (int i = 0; i < 12; i++)
            config.AddCapability(PCI_CAP_ID_VNDR, new byte[14]);
        Assert.Throws<InvalidOperationException>(() => config.AddCapability(PCI_CAP_ID_VNDR, new byte[14]));
    }
}
