using MiniVmm.Pci;
using MiniVmm.Virtio.Transport;
using static MiniVmm.Virtio.Transport.VirtioPciConstants;

namespace MiniVmm.Virtio.Tests.Transport;

public sealed class VirtioPciNegotiationTests
{
    private const ulong Version1 = 1UL << VIRTIO_F_VERSION_1;

    [Fact]
    public void ProbeFindsIdentityCapabilitiesAndBar()
    {
        using var h = new VirtioPciDriverHarness(new FakeVirtioDevice());
        h.Probe();
        Assert.Equal(0x1050_1AF4u, h.Config32(PciConfigSpace.PCI_VENDOR_ID));
        Assert.Equal(0x0380_0001u, h.Config32(PciConfigSpace.PCI_REVISION_ID));
        Assert.Equal(0x1100_1AF4u, h.Config32(PciConfigSpace.PCI_SUBSYSTEM_VENDOR_ID));
        Assert.Equal([VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_CAP_DEVICE_CFG], h.Caps.Keys.Order());
        Assert.All(h.Caps.Values, cap => Assert.Equal(0, cap.Bar));
        Assert.All(h.Caps.Values, cap => Assert.True(cap.Offset + cap.Length <= h.Bar0Size));
        Assert.True(h.Caps[VIRTIO_PCI_CAP_COMMON_CFG].Length >= CommonCfgLength);
        Assert.Equal(2u * 4, h.Caps[VIRTIO_PCI_CAP_NOTIFY_CFG].Length);
        Assert.Equal(4u, h.NotifyMultiplier);
        Assert.Equal(0xC000_0000UL, h.Bar0);
        Assert.Equal(h.Transport.Layout.BarSize, h.Bar0Size);
        Assert.Equal(3, h.Transport.Msix.VectorCount); // two queues + config
        Assert.Equal(1u, h.ConfigRead(PciConfigSpace.PCI_INTERRUPT_PIN, 1));
        Assert.Equal(2u, h.Common(VIRTIO_PCI_COMMON_NUMQ, 2));
    }

    [Fact]
    public void DeviceOffersItsFeaturesPlusTheTransportOnes()
    {
        using var h = new VirtioPciDriverHarness(new FakeVirtioDevice(features: 0b1001));
        h.Probe();
        h.ResetAndAcknowledge();
        Assert.Equal(0b1001UL | Version1 | (1UL << VIRTIO_RING_F_INDIRECT_DESC) | (1UL << VIRTIO_RING_F_EVENT_IDX), h.ReadDeviceFeatures());
        h.Common(VIRTIO_PCI_COMMON_DFSELECT, 4, 7);
        Assert.Equal(0u, h.Common(VIRTIO_PCI_COMMON_DF, 4));
    }

    [Theory]
    [InlineData(0b0001UL)]                    // no VERSION_1: a legacy driver
    [InlineData(0b0011UL | Version1)]          // bit 1 was never offered
    [InlineData(Version1 | (1UL << 40))]
    public void FeaturesOkIsRefusedForBadSelections(ulong features)
    {
        using var h = new VirtioPciDriverHarness(new FakeVirtioDevice(features: 0b1001));
        h.Probe();
        h.ResetAndAcknowledge();
        Assert.False(h.Negotiate(features));
        Assert.Equal(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, h.Status);
        Assert.NotNull(h.Transport.LastError);
    }

    [Fact]
    public void AcceptedFeaturesAreFrozenAtFeaturesOk()
    {
        using var h = new VirtioPciDriverHarness(new FakeVirtioDevice(features: 0b1001));
        h.Probe();
        h.ResetAndAcknowledge();
        Assert.True(h.Negotiate(Version1 | 0b1000));
        h.Common(VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
        h.Common(VIRTIO_PCI_COMMON_GF, 4, 0b0001);
        Assert.Equal(0b1000u, h.Common(VIRTIO_PCI_COMMON_GF, 4));
    }

    [Fact]
    public void DriverOkActivatesTheDeviceWithValidatedQueues()
    {
        var device = new FakeVirtioDevice();
        using var h = new VirtioPciDriverHarness(device);
        ulong features = Version1 | (1UL << VIRTIO_RING_F_EVENT_IDX) | 1;
        h.BringUp(features);
        Assert.Equal(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK, h.Status);
        var activation = Assert.IsType<VirtioActivation>(device.Activation);
        Assert.Equal(features, activation.NegotiatedFeatures);
        Assert.Equal(2, activation.Queues.Count);
        for (int i = 0; i < 2; i++)
        {
            var queue = Assert.IsType<MiniVmm.Virtio.Queue.Virtqueue>(activation.Queues[i]);
            var (desc, avail, used) = VirtioPciDriverHarness.Rings(i);
            Assert.Equal(device.QueueMaxSizes[i], queue.Size);
            Assert.Equal((desc, avail, used), (queue.DescriptorTable.Value, queue.AvailableRing.Value, queue.UsedRing.Value));
            Assert.True(queue.EventIndex);
            Assert.Same(h.Memory, queue.Memory);
        }
    }

    [Fact]
    public void DisabledQueuesAreNullInTheActivation()
    {
        var device = new FakeVirtioDevice();
        using var h = new VirtioPciDriverHarness(device);
        h.Probe();
        h.ResetAndAcknowledge();
        Assert.True(h.Negotiate(Version1));
        h.SetUpQueue(1, size: 4);
        h.EnableQueue(1);
        h.DriverOk();
        Assert.Null(device.Activation!.Queues[0]);
        Assert.Equal(4, device.Activation.Queues[1]!.Size);
    }

    [Fact]
    public void DriverOkWithoutFeaturesOkNeedsReset()
    {
        var device = new FakeVirtioDevice();
        using var h = new VirtioPciDriverHarness(device);
        h.Probe();
        h.ResetAndAcknowledge();
        h.DriverOk();
        Assert.Equal(VIRTIO_CONFIG_S_NEEDS_RESET, h.Status & VIRTIO_CONFIG_S_NEEDS_RESET);
        Assert.Null(device.Activation);
    }

    [Fact]
    public void AQueueOutsideGuestMemorySetsNeedsResetAndSignalsConfig()
    {
        var device = new FakeVirtioDevice();
        using var h = new VirtioPciDriverHarness(device);
        h.Probe();
        h.ResetAndAcknowledge();
        Assert.True(h.Negotiate(Version1));
        h.EnableMsix();
        h.SetUpQueue(0);
        h.Common(VIRTIO_PCI_COMMON_Q_DESCLO, 4, 0xFFF0_0000); // past the 1 MiB of RAM
        h.EnableQueue(0);
        h.DriverOk();
        Assert.Equal(VIRTIO_CONFIG_S_NEEDS_RESET, h.Status & VIRTIO_CONFIG_S_NEEDS_RESET);
        Assert.Contains("queue 0", h.Transport.LastError);
        Assert.Null(device.Activation);
        Assert.Single(h.Msi.Vectors[0].Fired); // the config vector
        Assert.Equal(1u, h.Common(VIRTIO_PCI_COMMON_CFGGENERATION, 1));
    }

    [Fact]
    public void ClearingAStatusBitIsIgnored()
    {
        using var h = new VirtioPciDriverHarness(new FakeVirtioDevice());
        h.Probe();
        h.ResetAndAcknowledge();
        h.Common(VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
        Assert.Equal(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, h.Status);
    }

    [Fact]
    public void ResetReturnsEveryRegisterToItsInitialValue()
    {
        var device = new FakeVirtioDevice();
        using var h = new VirtioPciDriverHarness(device);
        h.BringUp(Version1);
        int resetsBefore = device.Resets; // the probe's own reset counts too
        h.Common(VIRTIO_PCI_COMMON_STATUS, 1, 0);
        Assert.Equal(0, h.Status);
        Assert.Equal(resetsBefore + 1, device.Resets);
        Assert.Null(device.Activation);
        Assert.Equal((uint)VIRTIO_MSI_NO_VECTOR, h.Common(VIRTIO_PCI_COMMON_MSIX, 2));
        h.Common(VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
        Assert.Equal(0u, h.Common(VIRTIO_PCI_COMMON_GF, 4));
        for (int i = 0; i < 2; i++)
        {
            h.Common(VIRTIO_PCI_COMMON_Q_SELECT, 2, (ulong)i);
            Assert.Equal(0u, h.Common(VIRTIO_PCI_COMMON_Q_ENABLE, 2));
            Assert.Equal((uint)device.QueueMaxSizes[i], h.Common(VIRTIO_PCI_COMMON_Q_SIZE, 2));
            Assert.Equal((uint)VIRTIO_MSI_NO_VECTOR, h.Common(VIRTIO_PCI_COMMON_Q_MSIX, 2));
            Assert.Equal(0u, h.Common(VIRTIO_PCI_COMMON_Q_DESCLO, 4));
        }
        // The driver can bring it up again from scratch.
        h.ResetAndAcknowledge();
        Assert.True(h.Negotiate(Version1));
    }
}
