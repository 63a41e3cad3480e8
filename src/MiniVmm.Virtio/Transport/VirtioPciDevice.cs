using MiniVmm.Memory;
using MiniVmm.Pci;
using MiniVmm.Sys;
using MiniVmm.Virtio.Queue;
using static MiniVmm.Virtio.Transport.VirtioPciConstants;

namespace MiniVmm.Virtio.Transport;

/// <summary>
/// A virtio device on PCI through the modern transport (virtio 1.2 §4.1): identity and capabilities in
/// config space, BAR 0 holding common config, ISR, device config, notify and the MSI-X table/PBA, and
/// optionally BAR 2 as a shared-memory region. Split by concern: this file is the PCI side and BAR
/// dispatch, <c>.CommonConfig.cs</c> the driver-facing registers and status state machine,
/// <c>.Interrupts.cs</c> the device-facing interrupt path.
/// Thread-safety: <see cref="_lock"/> guards the common-config state (<see cref="_status"/>, features,
/// <see cref="_queues"/>, selectors, <see cref="_activeQueues"/>); <see cref="_isrLock"/> guards the ISR
/// and the INTx level. Calls into the device (Activate, Reset, config, QueueNotify) happen outside both.
/// </summary>
public sealed partial class VirtioPciDevice : IPciDevice, IDisposable
{
    private readonly Lock _lock = new();
    private readonly IVirtioDevice _device;
    private readonly GuestMemory _memory;
    private readonly VirtioPciLayout _layout;
    private readonly MsixCapability _msix;
    private readonly VirtioQueueNotifiers _notifiers;
    private readonly VirtioSharedMemoryRegion? _sharedMemory;
    private readonly InterruptSink _interrupt;
    private IPciInterruptLine? _intx;
    private ulong? _sharedMemoryAddress;

    public VirtioPciDevice(IVirtioDevice device, GuestMemory memory, EventLoop? loop = null, VirtioPciOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(memory);
        options ??= new VirtioPciOptions();
        // Linux's modern probe accepts device ids 0x1040-0x107F only.
        if (device.DeviceType is 0 or > 0x3F)
            throw new ArgumentException($"virtio device type {device.DeviceType} has no modern PCI device id", nameof(device));
        var maxSizes = device.QueueMaxSizes;
        foreach (ushort size in maxSizes)
        {
            if (size == 0 || size > 32768 || (size & (size - 1)) != 0)
                throw new ArgumentException($"queue size {size} is not a power of two up to 32768", nameof(device));
        }
        _device = device;
        _memory = memory;
        _layout = new VirtioPciLayout(maxSizes.Count);
        _sharedMemory = options.SharedMemory;
        _interrupt = new InterruptSink(this);
        _queues = [.. maxSizes.Select(max => new QueueRegisters(max))];

        Config = new PciConfigSpace(new PciIdentity(PCI_VENDOR_ID_REDHAT_QUMRANET,
            (ushort)(VIRTIO_PCI_MODERN_DEVICE_ID_BASE + device.DeviceType), options.ClassCode ?? DefaultClassCode(device.DeviceType),
            VIRTIO_PCI_MODERN_REVISION, PCI_VENDOR_ID_REDHAT_QUMRANET, VIRTIO_PCI_SUBSYSTEM_ID));
        Config.DeclareBar(new PciBarDefinition(VirtioPciLayout.Bar, _layout.BarSize, PciBarKind.Memory32));
        if (_sharedMemory is { } region)
            Config.DeclareBar(new PciBarDefinition(VirtioPciLayout.SharedMemoryBar, region.Length, PciBarKind.Memory64, prefetchable: true));
        _layout.AddCapabilities(Config, _sharedMemory);
        _msix = new MsixCapability(Config, _layout.Vectors, VirtioPciLayout.Bar, (uint)VirtioPciLayout.MsixTableOffset, (uint)_layout.MsixPbaOffset);
        if (options.Intx)
            Config.SetRegister(PciConfigSpace.PCI_INTERRUPT_PIN, 1, PciConfigSpace.PCI_INTERRUPT_PIN_INTA);
        _notifiers = new VirtioQueueNotifiers(maxSizes.Count, loop, OnQueueNotify);
    }

    public PciConfigSpace Config { get; }
    public VirtioPciLayout Layout => _layout;
    public MsixCapability Msix => _msix;
    public PciAddress? Address { get; private set; }

    /// <summary>Queue notifies that trapped to the VMM instead of completing as ioeventfds (0 when KVM did them all).</summary>
    public long MmioNotifies => _notifiers.MmioNotifies;

    /// <summary>Whether the notify addresses are registered as KVM ioeventfds right now.</summary>
    public bool IoEventsAssigned => _notifiers.IoEventsAssigned;

    /// <summary>
    /// The eventfd that wakes the event loop for queue <paramref name="queue"/> (what KVM signals on a
    /// guest notify); null without an event loop.
    /// </summary>
    public EventFd? NotifyEventFd(int queue) => _notifiers.EventFdFor(queue);

    /// <summary>Where the shared-memory BAR decodes now (null: not decoding). Memory slots for blobs go at this base + offset.</summary>
    public ulong? SharedMemoryAddress
    {
        get
        {
            lock (_lock)
                return _sharedMemoryAddress;
        }
    }

    /// <summary>Raised (on a vCPU thread, under the bus lock) when the shared-memory BAR starts, stops or moves.</summary>
    public event Action<ulong?>? SharedMemoryMoved;

    public void Attach(PciDeviceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Address = context.Address;
        _intx = context.Intx;
        _notifiers.Attach(context.Memory);
        _msix.Connect(context.Msi);
    }

    public void BarMoved(int index, ulong? address)
    {
        if (index == VirtioPciLayout.Bar)
        {
            _notifiers.Move(address is { } bar ? bar + VirtioPciLayout.NotifyOffset : null);
        }
        else if (index == VirtioPciLayout.SharedMemoryBar)
        {
            lock (_lock)
                _sharedMemoryAddress = address;
            SharedMemoryMoved?.Invoke(address);
        }
    }

    public void ReadBar(int index, ulong offset, Span<byte> data)
    {
        if (index != VirtioPciLayout.Bar)
        {
            // The shared-memory BAR where no blob is mapped: nothing decodes there, so it reads all ones
            // (like unclaimed MMIO) and a guest touching an unmapped blob gets a clear sign, not a crash.
            data.Fill(0xFF);
            return;
        }
        data.Clear();
        if (_msix.Claims(index, offset, data.Length))
            _msix.Read(offset, data);
        else if (Within(offset, data.Length, VirtioPciLayout.CommonOffset, CommonCfgLength))
            ReadCommon((int)(offset - VirtioPciLayout.CommonOffset), data);
        else if (offset == VirtioPciLayout.IsrOffset)
            data[0] = ReadIsrAndClear();
        else if (Within(offset, data.Length, VirtioPciLayout.DeviceOffset, VirtioPciLayout.DeviceLength))
            _device.ReadConfig((uint)(offset - VirtioPciLayout.DeviceOffset), data);
    }

    public void WriteBar(int index, ulong offset, ReadOnlySpan<byte> data)
    {
        if (index != VirtioPciLayout.Bar)
            return;
        if (_msix.Claims(index, offset, data.Length))
            _msix.Write(offset, data);
        else if (Within(offset, data.Length, VirtioPciLayout.CommonOffset, CommonCfgLength))
            WriteCommon((int)(offset - VirtioPciLayout.CommonOffset), data);
        else if (Within(offset, data.Length, VirtioPciLayout.DeviceOffset, VirtioPciLayout.DeviceLength))
            _device.WriteConfig((uint)(offset - VirtioPciLayout.DeviceOffset), data);
        else if (Within(offset, data.Length, VirtioPciLayout.NotifyOffset, _layout.NotifyLength)
                 && (offset - VirtioPciLayout.NotifyOffset) % VirtioPciLayout.NotifyOffMultiplier == 0)
            _notifiers.NotifyFromMmio((int)((offset - VirtioPciLayout.NotifyOffset) / VirtioPciLayout.NotifyOffMultiplier));
    }

    public void Dispose() => _notifiers.Dispose();

    /// <summary>Runs on the event loop thread: forwards a notify to the device while the queue is live.</summary>
    private void OnQueueNotify(int queue)
    {
        var active = Volatile.Read(ref _activeQueues);
        if (active is not null && queue < active.Length && active[queue] is not null)
            _device.QueueNotify(queue);
    }

    private static uint DefaultClassCode(uint deviceType) => deviceType switch
    {
        1 => 0x02_00_00,  // network controller
        2 => 0x01_00_00,  // mass storage (SCSI)
        16 => 0x03_80_00, // display controller, other (virtio-gpu-pci)
        _ => 0xFF_00_00,  // "device does not fit any defined class"
    };

    private static bool Within(ulong offset, int length, ulong start, ulong size) =>
        offset >= start && offset - start < size && (ulong)length <= size - (offset - start);

    /// <summary>Per-queue registers as the driver programs them (guarded by <see cref="_lock"/>).</summary>
    private sealed class QueueRegisters(ushort maxSize)
    {
        public ushort MaxSize { get; } = maxSize;
        public ushort Size { get; set; } = maxSize;
        public ushort MsixVector { get; set; } = VIRTIO_MSI_NO_VECTOR;
        public bool Enabled { get; set; }
        public ulong Descriptors { get; set; }
        public ulong Driver { get; set; }
        public ulong Device { get; set; }

        public void Reset()
        {
            Size = MaxSize;
            MsixVector = VIRTIO_MSI_NO_VECTOR;
            Enabled = false;
            Descriptors = Driver = Device = 0;
        }
    }
}
