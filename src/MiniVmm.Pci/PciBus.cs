namespace MiniVmm.Pci;

/// <summary>What the machine provides to the bus: address spaces, interrupt delivery and the BAR allocator.</summary>
public sealed record PciPlatform
{
    public required IPciAddressSpace Memory { get; init; }
    public required IPciAddressSpace Io { get; init; }
    public required IMsiController Msi { get; init; }
    public required PciBarAllocator Allocator { get; init; }

    /// <summary>Creates the INTx wire for an IOAPIC input (GSI); null when the machine wires no INTx.</summary>
    public Func<byte, IPciInterruptLine>? IntxLine { get; init; }
}

/// <summary>One INTx wire for the MP table: device (slot) on bus 0, pin 0 = INTA# … 3 = INTD#, IOAPIC input.</summary>
public readonly record struct PciIntxRoute(byte Device, byte Pin, byte Gsi);

/// <summary>
/// PCI bus 0 with up to 32 single-function devices and a host bridge at 00:00.0. It dispatches config
/// accesses, gives BARs their build-time addresses, and after every config write maps each BAR whose
/// decoding is on (command register) at the address its register holds, moving or removing the mapping
/// when the guest changes either. Thread-safety: <see cref="_lock"/> guards <see cref="_slots"/> (the
/// devices and their mapped BARs) and <see cref="_intxRoutes"/>, and serializes config accesses, so a
/// device's config write and the remapping it causes are atomic.
/// </summary>
public sealed class PciBus
{
    public const int DeviceCount = 32;

    /// <summary>
    /// INTx goes to IOAPIC inputs 16-23, which no ISA device uses, swizzled by slot as on a real board
    /// (slot d pin p → 16 + (d + p) mod 8), so neighbouring devices do not share a line.
    /// </summary>
    public const byte FirstIntxGsi = 16;
    public const int IntxGsiCount = 8;

    private readonly Lock _lock = new();
    private readonly PciPlatform _platform;
    private readonly Slot?[] _slots = new Slot?[DeviceCount];
    private readonly List<PciIntxRoute> _intxRoutes = [];

    public PciBus(PciPlatform platform)
    {
        ArgumentNullException.ThrowIfNull(platform);
        _platform = platform;
        HostBridge = new PciHostBridge();
        Add(HostBridge, 0);
    }

    public PciHostBridge HostBridge { get; }

    /// <summary>The INTx wiring to describe in the MP table.</summary>
    public IReadOnlyList<PciIntxRoute> IntxRoutes
    {
        get
        {
            lock (_lock)
                return [.. _intxRoutes];
        }
    }

    /// <summary>Places <paramref name="device"/> in the given or the lowest free slot, assigns its BARs and INTx, and attaches it.</summary>
    public PciAddress Add(IPciDevice device, int? slot = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        lock (_lock)
        {
            int number = slot ?? Array.FindIndex(_slots, s => s is null);
            if (number is < 0 or >= DeviceCount || _slots[number] is not null)
                throw new InvalidOperationException(slot is null ? "PCI bus 0 is full" : $"PCI slot {slot} is taken or out of range");
            var config = device.Config;
            foreach (var bar in config.Bars)
                config.SetBarAddress(bar.Index, _platform.Allocator.Allocate(bar));

            var address = new PciAddress(0, (byte)number, 0);
            var (line, gsi) = WireIntxLocked(config, (byte)number);
            var entry = new Slot(device);
            _slots[number] = entry;
            device.Attach(new PciDeviceContext
            {
                Address = address,
                Intx = line,
                IntxGsi = gsi,
                Msi = _platform.Msi,
                Memory = _platform.Memory,
                Io = _platform.Io,
            });
            RefreshBarsLocked(entry);
            return address;
        }
    }

    /// <summary>A config read; absent functions read all ones, which is how a driver learns nothing is there.</summary>
    public void ReadConfig(PciAddress address, int register, Span<byte> data)
    {
        lock (_lock)
        {
            if (Find(address) is { } slot)
                slot.Device.Config.Read(register, data);
            else
                data.Fill(0xFF);
        }
    }

    /// <summary>A config write; writes to absent functions vanish.</summary>
    public void WriteConfig(PciAddress address, int register, ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            if (Find(address) is not { } slot)
                return;
            slot.Device.Config.Write(register, data);
            RefreshBarsLocked(slot);
        }
    }

    /// <summary>Where BAR <paramref name="bar"/> of the device at <paramref name="address"/> is routed now, if anywhere.</summary>
    public ulong? GetMappedAddress(PciAddress address, int bar)
    {
        lock (_lock)
            return Find(address)?.Mapped[bar];
    }

    private Slot? Find(PciAddress address) =>
        address.Bus == 0 && address.Function == 0 && address.Device < DeviceCount ? _slots[address.Device] : null;

    private (IPciInterruptLine? Line, byte? Gsi) WireIntxLocked(PciConfigSpace config, byte slot)
    {
        byte pin = config.ReadByte(PciConfigSpace.PCI_INTERRUPT_PIN);
        if (pin is < 1 or > 4 || _platform.IntxLine is not { } create)
            return (null, null);
        byte gsi = (byte)(FirstIntxGsi + ((slot + pin - 1) % IntxGsiCount));
        config.SetValue(PciConfigSpace.PCI_INTERRUPT_LINE, 1, gsi);
        _intxRoutes.Add(new PciIntxRoute(slot, (byte)(pin - 1), gsi));
        return (create(gsi), gsi);
    }

    /// <summary>Brings every BAR's mapping in line with the command register and the BAR registers.</summary>
    private void RefreshBarsLocked(Slot slot)
    {
        var config = slot.Device.Config;
        foreach (var bar in config.Bars)
        {
            ulong? wanted = null;
            if (config.IsDecoding(bar))
            {
                ulong address = config.GetBarAddress(bar.Index);
                // Address 0 means "unassigned" to Linux; a BAR that would wrap past 2^64 decodes nothing.
                if (address != 0 && address <= ulong.MaxValue - (bar.Size - 1))
                    wanted = address;
            }
            int i = bar.Index;
            if (wanted == slot.Mapped[i])
                continue;
            var space = bar.IsIo ? _platform.Io : _platform.Memory;
            if (slot.Mapped[i] is not null)
                space.Unmap(slot.Regions[i]);
            // A guest may program clashing BARs; the clashing one then decodes nothing until it moves.
            if (wanted is { } target && !space.TryMap(target, bar.Size, slot.Regions[i]))
                wanted = null;
            slot.Mapped[i] = wanted;
            slot.Device.BarMoved(i, wanted);
        }
    }

    private sealed class Slot
    {
        public Slot(IPciDevice device)
        {
            Device = device;
            Regions = [.. Enumerable.Range(0, PciConfigSpace.PCI_STD_NUM_BARS).Select(i => new BarRegion(device, i))];
        }

        public IPciDevice Device { get; }
        public BarRegion[] Regions { get; }
        public ulong?[] Mapped { get; } = new ulong?[PciConfigSpace.PCI_STD_NUM_BARS];
    }

    /// <summary>Forwards accesses to one BAR; offsets arrive relative to the BAR's base.</summary>
    private sealed class BarRegion(IPciDevice device, int index) : IPciRegion
    {
        public void Read(ulong offset, Span<byte> data) => device.ReadBar(index, offset, data);

        public void Write(ulong offset, ReadOnlySpan<byte> data) => device.WriteBar(index, offset, data);
    }
}
