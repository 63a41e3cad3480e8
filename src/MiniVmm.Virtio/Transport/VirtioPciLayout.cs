using System.Buffers.Binary;
using MiniVmm.Pci;
using static MiniVmm.Virtio.Transport.VirtioPciConstants;

namespace MiniVmm.Virtio.Transport;

/// <summary>Options of one virtio-pci function.</summary>
public sealed record VirtioPciOptions
{
    /// <summary>PCI class code; default by device type (GPU: display/other 0x038000, else 0xFF0000 "unassigned").</summary>
    public uint? ClassCode { get; init; }

    /// <summary>Declare INTA# so a driver without MSI-X can fall back to INTx + ISR.</summary>
    public bool Intx { get; init; } = true;

    /// <summary>A shared-memory region (virtio 1.2 §2.10) exposed as BAR 2, 64-bit prefetchable, e.g. virtio-gpu's host-visible region (id 1).</summary>
    public VirtioSharedMemoryRegion? SharedMemory { get; init; }
}

/// <summary>A shared-memory region: its shmid and length (a power of two: it is a whole BAR).</summary>
public sealed record VirtioSharedMemoryRegion(byte Id, ulong Length);

/// <summary>
/// Where each structure sits in BAR 0 (one 32-bit memory BAR). Each starts on its own 4 KiB page so a
/// guest can map them with different attributes; the MSI-X table and PBA follow, sized for the vectors.
/// </summary>
public sealed record VirtioPciLayout
{
    public const int Bar = 0;
    public const int SharedMemoryBar = 2;
    public const ulong CommonOffset = 0x0000;
    public const ulong IsrOffset = 0x1000;
    public const ulong DeviceOffset = 0x2000;
    /// <summary>Linux maps at most a page of device config; a whole page costs nothing and fits any device.</summary>
    public const ulong DeviceLength = 0x1000;
    public const ulong NotifyOffset = 0x3000;
    /// <summary>queue_notify_off = queue index and a multiplier of 4: each queue its own dword (Firecracker's choice too).</summary>
    public const uint NotifyOffMultiplier = 4;
    public const ulong MsixTableOffset = 0x4000;
    /// <summary>The notify page holds 1024 queues at 4 bytes each.</summary>
    public const int MaxQueues = 1024;

    public VirtioPciLayout(int queueCount)
    {
        if (queueCount is < 1 or > MaxQueues)
            throw new ArgumentOutOfRangeException(nameof(queueCount), $"a virtio-pci device has 1 to {MaxQueues} queues here");
        QueueCount = queueCount;
        Vectors = queueCount + 1;
        MsixPbaOffset = AlignUp(MsixTableOffset + ((ulong)Vectors * MsixCapability.PCI_MSIX_ENTRY_SIZE), 0x1000);
        ulong end = MsixPbaOffset + ((ulong)(Vectors + 63) / 64 * 8);
        BarSize = 1UL << (64 - System.Numerics.BitOperations.LeadingZeroCount(end - 1));
    }

    public int QueueCount { get; }
    /// <summary>One MSI-X vector per queue plus one for configuration changes, as Linux asks for first.</summary>
    public int Vectors { get; }
    public ulong NotifyLength => (ulong)QueueCount * NotifyOffMultiplier;
    public ulong MsixPbaOffset { get; }
    public ulong BarSize { get; }

    /// <summary>Writes the vendor capabilities that tell the driver where each structure is.</summary>
    public void AddCapabilities(PciConfigSpace config, VirtioSharedMemoryRegion? sharedMemory)
    {
        ArgumentNullException.ThrowIfNull(config);
        AddCap(config, VIRTIO_PCI_CAP_COMMON_CFG, Bar, 0, CommonOffset, CommonCfgLength, []);
        Span<byte> multiplier = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(multiplier, NotifyOffMultiplier);
        AddCap(config, VIRTIO_PCI_CAP_NOTIFY_CFG, Bar, 0, NotifyOffset, NotifyLength, multiplier);
        AddCap(config, VIRTIO_PCI_CAP_ISR_CFG, Bar, 0, IsrOffset, 1, []);
        AddCap(config, VIRTIO_PCI_CAP_DEVICE_CFG, Bar, 0, DeviceOffset, DeviceLength, []);
        if (sharedMemory is { } region)
        {
            Span<byte> high = stackalloc byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(high, 0);                             // offset_hi
            BinaryPrimitives.WriteUInt32LittleEndian(high[4..], (uint)(region.Length >> 32)); // length_hi
            AddCap(config, VIRTIO_PCI_CAP_SHARED_MEMORY_CFG, SharedMemoryBar, region.Id, 0, region.Length, high);
        }
    }

    /// <summary>struct virtio_pci_cap (+ <paramref name="tail"/>): body after the id and next bytes.</summary>
    private static void AddCap(PciConfigSpace config, byte cfgType, int bar, byte id, ulong offset, ulong length, ReadOnlySpan<byte> tail)
    {
        Span<byte> body = stackalloc byte[VirtioPciCapSize - 2 + tail.Length];
        body.Clear();
        body[VIRTIO_PCI_CAP_LEN - 2] = (byte)(VirtioPciCapSize + tail.Length);
        body[VIRTIO_PCI_CAP_CFG_TYPE - 2] = cfgType;
        body[VIRTIO_PCI_CAP_BAR - 2] = (byte)bar;
        body[VIRTIO_PCI_CAP_ID - 2] = id;
        BinaryPrimitives.WriteUInt32LittleEndian(body[(VIRTIO_PCI_CAP_OFFSET - 2)..], (uint)offset);
        BinaryPrimitives.WriteUInt32LittleEndian(body[(VIRTIO_PCI_CAP_LENGTH - 2)..], (uint)length);
        tail.CopyTo(body[(VirtioPciCapSize - 2)..]);
        config.AddCapability(PciConfigSpace.PCI_CAP_ID_VNDR, body);
    }

    private static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) & ~(alignment - 1);
}
