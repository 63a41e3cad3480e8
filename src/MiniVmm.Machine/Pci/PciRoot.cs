using System.Runtime.Intrinsics.X86;
using MiniVmm.Boot;
using MiniVmm.Kvm;
using MiniVmm.Machine.Bus;
using MiniVmm.Memory;
using MiniVmm.Pci;

namespace MiniVmm.Machine.Pci;

/// <summary>
/// PCI for one KVM machine, wired in one place: bus 0 with its host bridge, conf1 on ports
/// 0xCF8-0xCFF, BARs mapped on the machine's MMIO/port buses (with ioeventfds), MSI-X through
/// GSI routes + irqfds, and INTx through KVM_IRQ_LINE on GSIs 16-23.
/// <code>
/// using var pci = new PciRoot(machine);
/// pci.Add(new VirtioPciDevice(device, machine.Memory, loop));
/// LinuxLoader.Load(..., new LoadOptions { PciInterruptRoutes = pci.InterruptRoutes });
/// </code>
/// Dispose it before the machine (it owns the vectors' eventfds and irqfd registrations).
/// </summary>
public sealed class PciRoot : IDisposable
{
    private readonly KvmMsiController _msi;

    /// <summary>PCI on <paramref name="machine"/> with the default BAR windows for its RAM.</summary>
    public PciRoot(VirtualMachine machine, PciBarAllocator? allocator = null)
        : this(machine.Kvm, machine.Pio, machine.Mmio, machine.InterruptLine, allocator ?? DefaultAllocator(machine.Memory),
            [.. machine.Memory.Regions.Select(region => (region.Start.Value, region.End))])
    {
    }

    /// <param name="ram">Guest RAM ranges: a memory BAR the guest places over them decodes nothing.</param>
    public PciRoot(KvmVm vm, IoBus pio, IoBus mmio, Func<uint, IInterruptLine> interruptLine, PciBarAllocator allocator,
        IReadOnlyList<(ulong Start, ulong End)>? ram = null)
    {
        ArgumentNullException.ThrowIfNull(vm);
        ArgumentNullException.ThrowIfNull(pio);
        ArgumentNullException.ThrowIfNull(interruptLine);
        var routing = new KvmIrqRouting(vm);
        Router = new GsiRouter(routing);
        _msi = new KvmMsiController(Router, routing);
        Bus = new PciBus(new PciPlatform
        {
            Memory = new IoBusAddressSpace(mmio, vm, pio: false, ram),
            Io = new IoBusAddressSpace(pio, vm, pio: true),
            Msi = _msi,
            Allocator = allocator,
            IntxLine = gsi => new PciIntxLine(interruptLine(gsi)),
        });
        ConfigIo = new PciConfigIo(Bus);
        pio.Register(PciConfigIo.ConfigAddressPort, PciConfigIo.PortCount, new RegionBusDevice(ConfigIo));
    }

    public PciBus Bus { get; }
    public PciConfigIo ConfigIo { get; }
    public GsiRouter Router { get; }
    public IReadOnlyList<KvmMsiVector> MsiVectors => _msi.Vectors;

    /// <summary>Places a device on bus 0 (the lowest free slot unless one is given).</summary>
    public PciAddress Add(IPciDevice device, int? slot = null) => Bus.Add(device, slot);

    /// <summary>INTx wiring for the MP table (GSI n is IOAPIC pin n on this machine).</summary>
    public IReadOnlyList<PciInterruptRoute> InterruptRoutes =>
        [.. Bus.IntxRoutes.Select(route => new PciInterruptRoute(route.Device, route.Pin, route.Gsi))];

    /// <summary>BAR windows for a guest whose RAM is <paramref name="memory"/>: see <see cref="PciBarAllocator.CreateDefault"/>.</summary>
    public static PciBarAllocator DefaultAllocator(GuestMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ulong ramEnd = memory.Regions.Count == 0 ? 0 : memory.Regions.Max(region => region.End);
        return PciBarAllocator.CreateDefault(ramEnd, PhysicalAddressBits());
    }

    /// <summary>
    /// The host CPU's physical address width (CPUID 0x80000008 EAX[7:0]); KVM gives the guest the same
    /// leaf. 36 bits is the architectural minimum when the leaf is missing.
    /// </summary>
    public static int PhysicalAddressBits()
    {
        const uint ExtendedMax = 0x8000_0000, AddressSizes = 0x8000_0008;
        if (!X86Base.IsSupported || (uint)X86Base.CpuId(unchecked((int)ExtendedMax), 0).Eax < AddressSizes)
            return 36;
        return X86Base.CpuId(unchecked((int)AddressSizes), 0).Eax & 0xFF;
    }

    public void Dispose() => _msi.Dispose();
}
