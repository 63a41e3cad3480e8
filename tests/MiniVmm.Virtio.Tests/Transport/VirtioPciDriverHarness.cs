using System.Buffers.Binary;
using MiniVmm.Memory;
using MiniVmm.Pci;
using MiniVmm.Sys;
using MiniVmm.Virtio.Transport;
using static MiniVmm.Virtio.Transport.VirtioPciConstants;

namespace MiniVmm.Virtio.Tests.Transport;

/// <summary>
/// An in-process guest driver that touches the device only through config space and BAR accesses, in
/// the order Linux's virtio_pci_modern does: probe (vp_modern_probe: ids, vendor capabilities, BAR),
/// reset, ACKNOWLEDGE|DRIVER, features, FEATURES_OK, MSI-X, queues (setup_vq), enable, DRIVER_OK.
/// </summary>
internal sealed class VirtioPciDriverHarness : IDisposable
{
    public const ulong RingBase = 0x1_0000;
    public const ulong RingStride = 0x1_0000;

    public VirtioPciDriverHarness(FakeVirtioDevice device, bool ioEvents = false, EventLoop? loop = null, VirtioPciOptions? options = null)
    {
        Device = device;
        Memory = GuestMemory.CreateFlat(1 << 20);
        MemorySpace = new FakeMemorySpace(ioEvents);
        Bus = new PciBus(new PciPlatform
        {
            Memory = MemorySpace,
            Io = new NoIoSpace(),
            Msi = Msi,
            Allocator = new PciBarAllocator(PciBarAllocator.DefaultMmio32, new PciWindow(0x10_0000_0000, 0x20_0000_0000), PciBarAllocator.DefaultIo),
            IntxLine = _ => Intx,
        });
        Transport = new VirtioPciDevice(device, Memory, loop, options);
        Address = Bus.Add(Transport);
    }

    public FakeVirtioDevice Device { get; }
    public GuestMemory Memory { get; }
    public FakeMemorySpace MemorySpace { get; }
    public RecordingMsi Msi { get; } = new();
    public RecordingIntx Intx { get; } = new();
    public PciBus Bus { get; }
    public VirtioPciDevice Transport { get; }
    public PciAddress Address { get; }

    public Dictionary<byte, (int CapOffset, byte Bar, uint Offset, uint Length)> Caps { get; } = [];
    public uint NotifyMultiplier { get; private set; }
    public ulong Bar0 { get; private set; }
    public ulong Bar0Size { get; private set; }

    public void Dispose()
    {
        Transport.Dispose();
        Memory.Dispose();
    }

    // Config space, as pci_read_config_* through conf1 would see it.
    public uint Config32(int register) => ConfigRead(register, 4);
    public uint ConfigRead(int register, int size)
    {
        Span<byte> data = stackalloc byte[4];
        data.Clear();
        Bus.ReadConfig(Address, register, data[..size]);
        return BinaryPrimitives.ReadUInt32LittleEndian(data);
    }
    public void ConfigWrite(int register, int size, uint value) => Bus.WriteConfig(Address, register, BitConverter.GetBytes(value).AsSpan(0, size));

    // BAR 0 MMIO.
    public uint Mmio(ulong offset, int size)
    {
        Span<byte> data = stackalloc byte[8];
        data.Clear();
        MemorySpace.Read(Bar0 + offset, data[..size]);
        return (uint)BinaryPrimitives.ReadUInt64LittleEndian(data);
    }
    public void Mmio(ulong offset, int size, ulong value) => MemorySpace.Write(Bar0 + offset, BitConverter.GetBytes(value).AsSpan(0, size));

    public uint Common(int field, int size) => Mmio(Caps[VIRTIO_PCI_CAP_COMMON_CFG].Offset + (ulong)field, size);
    public void Common(int field, int size, ulong value) => Mmio(Caps[VIRTIO_PCI_CAP_COMMON_CFG].Offset + (ulong)field, size, value);
    public byte Status => (byte)Common(VIRTIO_PCI_COMMON_STATUS, 1);

    /// <summary>vp_modern_probe: check ids, walk vendor capabilities, size BAR 0 and enable the device.</summary>
    public void Probe()
    {
        uint ids = Config32(PciConfigSpace.PCI_VENDOR_ID);
        Assert.Equal(PCI_VENDOR_ID_REDHAT_QUMRANET, (ushort)ids);
        Assert.InRange(ids >> 16, 0x1040u, 0x107Fu);
        int pointer = (int)ConfigRead(PciConfigSpace.PCI_CAPABILITY_LIST, 1);
        for (int guard = 0; pointer != 0 && guard < 48; guard++)
        {
            if (ConfigRead(pointer, 1) == PciConfigSpace.PCI_CAP_ID_VNDR)
            {
                byte type = (byte)ConfigRead(pointer + VIRTIO_PCI_CAP_CFG_TYPE, 1);
                // Linux keeps the first capability of each type.
                Caps.TryAdd(type, (pointer, (byte)ConfigRead(pointer + VIRTIO_PCI_CAP_BAR, 1),
                    Config32(pointer + VIRTIO_PCI_CAP_OFFSET), Config32(pointer + VIRTIO_PCI_CAP_LENGTH)));
            }
            pointer = (int)ConfigRead(pointer + 1, 1) & ~3;
        }
        NotifyMultiplier = Config32(Caps[VIRTIO_PCI_CAP_NOTIFY_CFG].CapOffset + VIRTIO_PCI_NOTIFY_CAP_MULT);

        // __pci_read_base: decode off, all ones, read mask, restore.
        int bar = PciConfigSpace.BarRegister(0);
        uint original = Config32(bar);
        ConfigWrite(bar, 4, 0xFFFF_FFFF);
        Bar0Size = ~(Config32(bar) & PciConfigSpace.PCI_BASE_ADDRESS_MEM_MASK) + 1u;
        ConfigWrite(bar, 4, original);
        Bar0 = original & PciConfigSpace.PCI_BASE_ADDRESS_MEM_MASK;
        // pci_enable_device + pci_set_master.
        ConfigWrite(PciConfigSpace.PCI_COMMAND, 2, PciConfigSpace.PCI_COMMAND_MEMORY | PciConfigSpace.PCI_COMMAND_MASTER);
    }

    public void ResetAndAcknowledge()
    {
        Common(VIRTIO_PCI_COMMON_STATUS, 1, 0);
        Assert.Equal(0, Status);
        Common(VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
        Common(VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    }

    public ulong ReadDeviceFeatures()
    {
        Common(VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
        ulong low = Common(VIRTIO_PCI_COMMON_DF, 4);
        Common(VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
        return low | ((ulong)Common(VIRTIO_PCI_COMMON_DF, 4) << 32);
    }

    /// <summary>Writes the driver features and sets FEATURES_OK; returns whether the device kept it.</summary>
    public bool Negotiate(ulong features)
    {
        Common(VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
        Common(VIRTIO_PCI_COMMON_GF, 4, (uint)features);
        Common(VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
        Common(VIRTIO_PCI_COMMON_GF, 4, features >> 32);
        Common(VIRTIO_PCI_COMMON_STATUS, 1, (ulong)(Status | VIRTIO_CONFIG_S_FEATURES_OK));
        return (Status & VIRTIO_CONFIG_S_FEATURES_OK) != 0;
    }

    /// <summary>pci_msix_enable (enable + mask-all, program, unmask-all) with one vector per queue plus config.</summary>
    public void EnableMsix()
    {
        var msix = Transport.Msix;
        int control = msix.CapabilityOffset + MsixCapability.PCI_MSIX_FLAGS;
        ConfigWrite(control, 2, MsixCapability.PCI_MSIX_FLAGS_ENABLE | MsixCapability.PCI_MSIX_FLAGS_MASKALL);
        for (int vector = 0; vector < msix.VectorCount; vector++)
        {
            ulong entry = msix.TableOffset + (ulong)(vector * MsixCapability.PCI_MSIX_ENTRY_SIZE);
            Mmio(entry + MsixCapability.PCI_MSIX_ENTRY_LOWER_ADDR, 4, 0xFEE0_0000);
            Mmio(entry + MsixCapability.PCI_MSIX_ENTRY_UPPER_ADDR, 4, 0);
            Mmio(entry + MsixCapability.PCI_MSIX_ENTRY_DATA, 4, 0x40u + (uint)vector);
            Mmio(entry + MsixCapability.PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
        }
        ConfigWrite(control, 2, MsixCapability.PCI_MSIX_FLAGS_ENABLE);
        Common(VIRTIO_PCI_COMMON_MSIX, 2, 0);
        Assert.Equal(0u, Common(VIRTIO_PCI_COMMON_MSIX, 2));
    }

    /// <summary>setup_vq for queue <paramref name="index"/>: rings in guest RAM, addresses, vector; not yet enabled.</summary>
    public ushort SetUpQueue(int index, ushort? size = null, ushort? vector = null)
    {
        Common(VIRTIO_PCI_COMMON_Q_SELECT, 2, (ulong)index);
        ushort max = (ushort)Common(VIRTIO_PCI_COMMON_Q_SIZE, 2);
        Assert.NotEqual(0, max);
        Assert.Equal(0u, Common(VIRTIO_PCI_COMMON_Q_ENABLE, 2));
        ushort num = size ?? max;
        Common(VIRTIO_PCI_COMMON_Q_SIZE, 2, num);
        var (desc, avail, used) = Rings(index);
        Common(VIRTIO_PCI_COMMON_Q_DESCLO, 4, (uint)desc);
        Common(VIRTIO_PCI_COMMON_Q_DESCHI, 4, desc >> 32);
        Common(VIRTIO_PCI_COMMON_Q_AVAILLO, 4, (uint)avail);
        Common(VIRTIO_PCI_COMMON_Q_AVAILHI, 4, avail >> 32);
        Common(VIRTIO_PCI_COMMON_Q_USEDLO, 4, (uint)used);
        Common(VIRTIO_PCI_COMMON_Q_USEDHI, 4, used >> 32);
        Assert.Equal((uint)index, Common(VIRTIO_PCI_COMMON_Q_NOFF, 2));
        if (vector is { } v)
            Common(VIRTIO_PCI_COMMON_Q_MSIX, 2, v);
        return num;
    }

    public void EnableQueue(int index)
    {
        Common(VIRTIO_PCI_COMMON_Q_SELECT, 2, (ulong)index);
        Common(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
    }

    public void DriverOk() => Common(VIRTIO_PCI_COMMON_STATUS, 1, (ulong)(Status | VIRTIO_CONFIG_S_DRIVER_OK));

    /// <summary>Everything up to DRIVER_OK with every queue, MSI-X vector i + 1 for queue i.</summary>
    public void BringUp(ulong features)
    {
        Probe();
        ResetAndAcknowledge();
        Assert.True(Negotiate(features));
        EnableMsix();
        for (int i = 0; i < Device.QueueMaxSizes.Count; i++)
            SetUpQueue(i, vector: (ushort)(i + 1));
        for (int i = 0; i < Device.QueueMaxSizes.Count; i++)
            EnableQueue(i);
        DriverOk();
    }

    /// <summary>vp_notify: a 16-bit write of the queue index at its notify address.</summary>
    public void Notify(int queue) =>
        Mmio(Caps[VIRTIO_PCI_CAP_NOTIFY_CFG].Offset + ((ulong)queue * NotifyMultiplier), 2, (ulong)queue);

    public static (ulong Desc, ulong Avail, ulong Used) Rings(int index)
    {
        ulong desc = RingBase + ((ulong)index * RingStride);
        return (desc, desc + 0x4000, desc + 0x8000);
    }
}
