namespace MiniVmm.Virtio.Transport;

/// <summary>
/// Virtio over PCI, modern interface (virtio 1.2 §4.1), with the names of Linux's
/// include/uapi/linux/virtio_pci.h and virtio_config.h so each value can be checked against both.
/// </summary>
public static class VirtioPciConstants
{
    // Identity (§4.1.2): vendor 0x1AF4, device 0x1040 + virtio device id, revision 1 for modern-only devices.
    public const ushort PCI_VENDOR_ID_REDHAT_QUMRANET = 0x1AF4;
    public const ushort VIRTIO_PCI_MODERN_DEVICE_ID_BASE = 0x1040;
    public const byte VIRTIO_PCI_MODERN_REVISION = 1;
    /// <summary>Subsystem device id; §4.1.2.1 asks non-transitional devices for one of at least 0x40. QEMU uses 0x1100.</summary>
    public const ushort VIRTIO_PCI_SUBSYSTEM_ID = 0x1100;

    // Vendor capability cfg_type values (§4.1.4).
    public const byte VIRTIO_PCI_CAP_COMMON_CFG = 1;
    public const byte VIRTIO_PCI_CAP_NOTIFY_CFG = 2;
    public const byte VIRTIO_PCI_CAP_ISR_CFG = 3;
    public const byte VIRTIO_PCI_CAP_DEVICE_CFG = 4;
    public const byte VIRTIO_PCI_CAP_PCI_CFG = 5;
    public const byte VIRTIO_PCI_CAP_SHARED_MEMORY_CFG = 8;

    // struct virtio_pci_cap field offsets (from the capability start) and lengths.
    public const int VIRTIO_PCI_CAP_LEN = 2;
    public const int VIRTIO_PCI_CAP_CFG_TYPE = 3;
    public const int VIRTIO_PCI_CAP_BAR = 4;
    public const int VIRTIO_PCI_CAP_ID = 5;
    public const int VIRTIO_PCI_CAP_OFFSET = 8;
    public const int VIRTIO_PCI_CAP_LENGTH = 12;
    public const int VIRTIO_PCI_NOTIFY_CAP_MULT = 16;
    public const int VIRTIO_PCI_CAP64_OFFSET_HI = 16;
    public const int VIRTIO_PCI_CAP64_LENGTH_HI = 20;
    public const int VirtioPciCapSize = 16;
    public const int VirtioPciNotifyCapSize = 20;
    /// <summary>Linux 6.1 skips a shared-memory capability unless cap_len is exactly this (virtio_pci_find_shm_cap).</summary>
    public const int VirtioPciCap64Size = 24;

    // struct virtio_pci_common_cfg (§4.1.4.3) offsets.
    public const int VIRTIO_PCI_COMMON_DFSELECT = 0;
    public const int VIRTIO_PCI_COMMON_DF = 4;
    public const int VIRTIO_PCI_COMMON_GFSELECT = 8;
    public const int VIRTIO_PCI_COMMON_GF = 12;
    public const int VIRTIO_PCI_COMMON_MSIX = 16;
    public const int VIRTIO_PCI_COMMON_NUMQ = 18;
    public const int VIRTIO_PCI_COMMON_STATUS = 20;
    public const int VIRTIO_PCI_COMMON_CFGGENERATION = 21;
    public const int VIRTIO_PCI_COMMON_Q_SELECT = 22;
    public const int VIRTIO_PCI_COMMON_Q_SIZE = 24;
    public const int VIRTIO_PCI_COMMON_Q_MSIX = 26;
    public const int VIRTIO_PCI_COMMON_Q_ENABLE = 28;
    public const int VIRTIO_PCI_COMMON_Q_NOFF = 30;
    public const int VIRTIO_PCI_COMMON_Q_DESCLO = 32;
    public const int VIRTIO_PCI_COMMON_Q_DESCHI = 36;
    public const int VIRTIO_PCI_COMMON_Q_AVAILLO = 40;
    public const int VIRTIO_PCI_COMMON_Q_AVAILHI = 44;
    public const int VIRTIO_PCI_COMMON_Q_USEDLO = 48;
    public const int VIRTIO_PCI_COMMON_Q_USEDHI = 52;
    /// <summary>The virtio 1.0 structure (56 bytes): the minimum Linux maps. The 1.2 tail (notify data, queue reset) is not offered.</summary>
    public const int CommonCfgLength = 56;

    public const ushort VIRTIO_MSI_NO_VECTOR = 0xFFFF;

    // ISR status bits (§4.1.4.5).
    public const byte VIRTIO_PCI_ISR_QUEUE = 0x1;
    public const byte VIRTIO_PCI_ISR_CONFIG = 0x2;

    // Device status bits (§2.1).
    public const byte VIRTIO_CONFIG_S_ACKNOWLEDGE = 1;
    public const byte VIRTIO_CONFIG_S_DRIVER = 2;
    public const byte VIRTIO_CONFIG_S_DRIVER_OK = 4;
    public const byte VIRTIO_CONFIG_S_FEATURES_OK = 8;
    public const byte VIRTIO_CONFIG_S_NEEDS_RESET = 0x40;
    public const byte VIRTIO_CONFIG_S_FAILED = 0x80;

    // Transport feature bits (§6).
    public const int VIRTIO_RING_F_INDIRECT_DESC = 28;
    public const int VIRTIO_RING_F_EVENT_IDX = 29;
    public const int VIRTIO_F_VERSION_1 = 32;

    /// <summary>What the transport offers on top of the device's own bits.</summary>
    public const ulong TransportFeatures =
        (1UL << VIRTIO_F_VERSION_1) | (1UL << VIRTIO_RING_F_INDIRECT_DESC) | (1UL << VIRTIO_RING_F_EVENT_IDX);

    /// <summary>The driver writes the 16-bit queue index to the notify address (§4.1.5.2).</summary>
    public const uint NotifyAccessSize = 2;
}
