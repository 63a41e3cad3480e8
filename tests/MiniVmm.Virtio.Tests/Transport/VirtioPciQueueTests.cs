using MiniVmm.Virtio.Transport;
using static MiniVmm.Virtio.Transport.VirtioPciConstants;

namespace MiniVmm.Virtio.Tests.Transport;

public sealed class VirtioPciQueueTests
{
    private const ulong Version1 = 1UL << VIRTIO_F_VERSION_1;

    private static VirtioPciDriverHarness Negotiated(FakeVirtioDevice? device = null)
    {
        var h = new VirtioPciDriverHarness(device ?? new FakeVirtioDevice());
        h.Probe();
        h.ResetAndAcknowledge();
        Assert.True(h.Negotiate(Version1));
        return h;
    }

    [Fact]
    public void QueueFieldsAreReadOnlyOnceEnabled()
    {
        using var h = Negotiated();
        h.SetUpQueue(0, size: 8);
        h.EnableQueue(0);
        h.Common(VIRTIO_PCI_COMMON_Q_SIZE, 2, 4);
        h.Common(VIRTIO_PCI_COMMON_Q_DESCLO, 4, 0x5_0000);
        h.Common(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 0);
        Assert.Equal(8u, h.Common(VIRTIO_PCI_COMMON_Q_SIZE, 2));
        Assert.Equal((uint)VirtioPciDriverHarness.Rings(0).Desc, h.Common(VIRTIO_PCI_COMMON_Q_DESCLO, 4));
        Assert.Equal(1u, h.Common(VIRTIO_PCI_COMMON_Q_ENABLE, 2));
    }

    [Theory]
    [InlineData(32)] // larger than the maximum of 16
    [InlineData(12)] // not a power of two
    [InlineData(0)]
    public void BadQueueSizesAreIgnored(int size)
    {
        using var h = Negotiated();
        h.Common(VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
        h.Common(VIRTIO_PCI_COMMON_Q_SIZE, 2, (ulong)size);
        Assert.Equal(16u, h.Common(VIRTIO_PCI_COMMON_Q_SIZE, 2));
    }

    [Fact]
    public void ASelectorPastTheLastQueueReadsSizeZero()
    {
        using var h = Negotiated();
        h.Common(VIRTIO_PCI_COMMON_Q_SELECT, 2, 2);
        Assert.Equal(0u, h.Common(VIRTIO_PCI_COMMON_Q_SIZE, 2));
        h.Common(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1); // nothing to enable, nothing breaks
        Assert.Equal(0u, h.Common(VIRTIO_PCI_COMMON_Q_ENABLE, 2));
    }

    [Fact]
    public void AddressesCanBeWrittenAsOneQword()
    {
        using var h = Negotiated();
        h.Common(VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
        h.Common(VIRTIO_PCI_COMMON_Q_USEDLO, 8, 0x1234_5678_9ABC_D000);
        Assert.Equal(0x9ABC_D000u, h.Common(VIRTIO_PCI_COMMON_Q_USEDLO, 4));
        Assert.Equal(0x1234_5678u, h.Common(VIRTIO_PCI_COMMON_Q_USEDHI, 4));
    }

    [Fact]
    public void VectorsTheTableDoesNotHaveReadBackAsNoVector()
    {
        using var h = Negotiated();
        h.Common(VIRTIO_PCI_COMMON_MSIX, 2, 3); // vectors are 0..2
        Assert.Equal((uint)VIRTIO_MSI_NO_VECTOR, h.Common(VIRTIO_PCI_COMMON_MSIX, 2));
        h.Common(VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
        h.Common(VIRTIO_PCI_COMMON_Q_MSIX, 2, 2);
        Assert.Equal(2u, h.Common(VIRTIO_PCI_COMMON_Q_MSIX, 2));
    }

    [Fact]
    public void DeviceConfigIsPassedThroughWithItsOffset()
    {
        var device = new FakeVirtioDevice();
        using var h = Negotiated(device);
        ulong config = h.Caps[VIRTIO_PCI_CAP_DEVICE_CFG].Offset;
        Assert.Equal(0x1312_1110u, h.Mmio(config, 4));
        Assert.Equal(0x1Bu, h.Mmio(config + 11, 1));
        h.Mmio(config + 4, 4, 0xAABB_CCDD);
        var (offset, data) = device.ConfigWrites.Single();
        Assert.Equal(4u, offset);
        Assert.Equal([0xDD, 0xCC, 0xBB, 0xAA], data);
    }

    [Fact]
    public void MsixQueueAndConfigInterruptsUseTheChosenVectors()
    {
        var device = new FakeVirtioDevice();
        using var h = new VirtioPciDriverHarness(device);
        h.BringUp(Version1);
        var interrupt = device.Activation!.Interrupt;
        interrupt.SignalQueue(1);
        Assert.Equal([new Pci.MsiMessage(0xFEE0_0000, 0x42)], h.Msi.Vectors[2].Fired);
        interrupt.SignalConfigChange();
        Assert.Single(h.Msi.Vectors[0].Fired);
        Assert.Equal(1u, h.Common(VIRTIO_PCI_COMMON_CFGGENERATION, 1));
        Assert.False(h.Intx.Level);
        // The ISR config bit is set with MSI-X too; the queue bit is not.
        Assert.Equal(VIRTIO_PCI_ISR_CONFIG, h.Transport.PeekIsr());
    }

    [Fact]
    public void WithoutMsixInterruptsGoThroughIsrAndIntxAndReadingIsrClearsBoth()
    {
        var device = new FakeVirtioDevice();
        using var h = Negotiated(device);
        h.SetUpQueue(0);
        h.EnableQueue(0);
        h.DriverOk();
        ulong isr = h.Caps[VIRTIO_PCI_CAP_ISR_CFG].Offset;
        device.Activation!.Interrupt.SignalQueue(0);
        Assert.True(h.Intx.Level);
        Assert.NotEqual(0u, h.ConfigRead(Pci.PciConfigSpace.PCI_STATUS, 2) & Pci.PciConfigSpace.PCI_STATUS_INTERRUPT);
        device.Activation.Interrupt.SignalConfigChange();
        Assert.Equal((uint)(VIRTIO_PCI_ISR_QUEUE | VIRTIO_PCI_ISR_CONFIG), h.Mmio(isr, 1));
        Assert.False(h.Intx.Level);
        Assert.Equal(0u, h.Mmio(isr, 1));
        Assert.Equal(0u, h.ConfigRead(Pci.PciConfigSpace.PCI_STATUS, 2) & Pci.PciConfigSpace.PCI_STATUS_INTERRUPT);
    }

    [Fact]
    public void NeedsResetFromTheDeviceIsVisibleAndSignalled()
    {
        var device = new FakeVirtioDevice();
        using var h = new VirtioPciDriverHarness(device);
        h.BringUp(Version1);
        device.Activation!.Interrupt.SignalNeedsReset("bad avail index");
        Assert.NotEqual(0, h.Status & VIRTIO_CONFIG_S_NEEDS_RESET);
        Assert.Equal("bad avail index", h.Transport.LastError);
        Assert.Single(h.Msi.Vectors[0].Fired);
    }

    [Fact]
    public void SharedMemoryRegionGetsA64BitPrefetchableBarAndACap64()
    {
        var options = new VirtioPciOptions { SharedMemory = new VirtioSharedMemoryRegion(1, 8UL << 30) };
        using var h = new VirtioPciDriverHarness(new FakeVirtioDevice(), options: options);
        ulong? moved = null;
        h.Transport.SharedMemoryMoved += address => moved = address;
        h.Probe();
        var cap = h.Caps[VIRTIO_PCI_CAP_SHARED_MEMORY_CFG];
        Assert.Equal((byte)VirtioPciLayout.SharedMemoryBar, cap.Bar);
        Assert.Equal((uint)VirtioPciCap64Size, h.ConfigRead(cap.CapOffset + VIRTIO_PCI_CAP_LEN, 1));
        Assert.Equal(1u, h.ConfigRead(cap.CapOffset + VIRTIO_PCI_CAP_ID, 1));
        Assert.Equal((0u, 0u), (cap.Offset, cap.Length)); // 8 GiB: the low halves are 0
        Assert.Equal(2u, h.Config32(cap.CapOffset + VIRTIO_PCI_CAP64_LENGTH_HI));
        uint barLow = h.Config32(Pci.PciConfigSpace.BarRegister(2));
        Assert.Equal(Pci.PciConfigSpace.PCI_BASE_ADDRESS_MEM_TYPE_64 | Pci.PciConfigSpace.PCI_BASE_ADDRESS_MEM_PREFETCH, barLow);
        Assert.Equal(0x10u, h.Config32(Pci.PciConfigSpace.BarRegister(3)));
        Assert.Equal(0x10_0000_0000UL, moved); // Probe enabled memory decoding
        Assert.Equal(0x10_0000_0000UL, h.Transport.SharedMemoryAddress);
    }
}
