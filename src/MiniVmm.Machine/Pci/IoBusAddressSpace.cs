using MiniVmm.Kvm;
using MiniVmm.Machine.Bus;
using MiniVmm.Pci;

namespace MiniVmm.Machine.Pci;

/// <summary>
/// A PCI address space over one of the machine's buses (MMIO or port I/O), with KVM ioeventfds when a
/// VM is given. MMIO ioeventfds use length 0 ("any access size") when KVM has
/// KVM_CAP_IOEVENTFD_ANY_LENGTH: KVM then matches them on its fast MMIO bus without decoding the
/// instruction. Thread-safety: <see cref="_lock"/> guards <see cref="_mapped"/> and <see cref="_ioEvents"/>.
/// </summary>
public sealed class IoBusAddressSpace : IPciAddressSpace
{
    private readonly Lock _lock = new();
    private readonly IoBus _bus;
    private readonly KvmVm? _vm;
    private readonly bool _pio;
    private readonly bool _anyLength;
    private readonly Dictionary<IPciRegion, RegionBusDevice> _mapped = [];
    private readonly Dictionary<(int Fd, ulong Address, uint Length), uint> _ioEvents = [];
    private readonly IReadOnlyList<(ulong Start, ulong End)> _reserved;

    /// <param name="reserved">Ranges no BAR may cover (the guest's RAM): a BAR placed there decodes nothing, as on
    /// hardware where RAM wins, and no KVM slot or bus range is registered over them.</param>
    public IoBusAddressSpace(IoBus bus, KvmVm? vm, bool pio, IReadOnlyList<(ulong Start, ulong End)>? reserved = null)
    {
        ArgumentNullException.ThrowIfNull(bus);
        _reserved = reserved ?? [];
        _bus = bus;
        _vm = vm;
        _pio = pio;
        _anyLength = !pio && vm is not null && vm.System.CheckExtension(KvmCapability.IoeventfdAnyLength) > 0;
    }

    public bool TryMap(ulong address, ulong length, IPciRegion region)
    {
        ArgumentNullException.ThrowIfNull(region);
        lock (_lock)
        {
            if (_mapped.ContainsKey(region) || length == 0 || address > ulong.MaxValue - (length - 1))
                return false;
            foreach (var (start, end) in _reserved)
            {
                if (address < end && start <= address + (length - 1))
                    return false;
            }
            var device = new RegionBusDevice(region);
            try
            {
                _bus.Register(address, length, device);
            }
            catch (ArgumentException)
            {
                return false; // overlaps another device or wraps: IoBus refuses, the BAR decodes nothing
            }
            _mapped.Add(region, device);
            return true;
        }
    }

    public void Unmap(IPciRegion region)
    {
        lock (_lock)
        {
            if (_mapped.Remove(region, out var device))
                _bus.Unregister(device);
        }
    }

    public bool TryAddIoEvent(int eventFd, ulong address, uint length)
    {
        if (_vm is null)
            return false;
        uint kvmLength = _anyLength ? 0 : length;
        lock (_lock)
        {
            try
            {
                _vm.AssignIoeventfd(eventFd, address, kvmLength, _pio);
            }
            catch (KvmException)
            {
                return false; // e.g. EEXIST for a duplicate: the access then traps to the region as usual
            }
            _ioEvents[(eventFd, address, length)] = kvmLength;
            return true;
        }
    }

    public void RemoveIoEvent(int eventFd, ulong address, uint length)
    {
        lock (_lock)
        {
            if (_vm is not null && _ioEvents.Remove((eventFd, address, length), out uint kvmLength))
                _vm.DeassignIoeventfd(eventFd, address, kvmLength, _pio);
        }
    }
}

/// <summary>Puts an <see cref="IPciRegion"/> (a BAR, the conf1 ports) on an <see cref="IoBus"/>.</summary>
public sealed class RegionBusDevice(IPciRegion region) : IBusDevice
{
    public void Read(ulong offset, Span<byte> data) => region.Read(offset, data);

    public void Write(ulong offset, ReadOnlySpan<byte> data) => region.Write(offset, data);
}

/// <summary>A PCI INTx wire driven through the machine's interrupt line (KVM_IRQ_LINE on its GSI).</summary>
public sealed class PciIntxLine(IInterruptLine line) : IPciInterruptLine
{
    public void SetLevel(bool asserted) => line.SetLevel(asserted);
}
