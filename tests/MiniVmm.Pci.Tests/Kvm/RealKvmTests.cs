using MiniVmm.Kvm;
using MiniVmm.Machine.Bus;
using MiniVmm.Machine.Pci;
using MiniVmm.Pci;
using MiniVmm.Sys;

namespace MiniVmm.Pci.Tests.Kvm;

/// <summary>The glue against the real /dev/kvm: the ioctls must accept what the router and vectors build.</summary>
public sealed class RealKvmTests : IDisposable
{
    private readonly KvmSystem _kvm;
    private readonly KvmVm _vm;

    public RealKvmTests()
    {
        _kvm = KvmSystem.Open(KvmAvailability.Device);
        _vm = _kvm.CreateVm();
        _vm.CreateIrqchip(); // routing and irqfd need the in-kernel irqchip
    }

    public void Dispose()
    {
        _vm.Dispose();
        _kvm.Dispose();
    }

    [KvmFact]
    public void KvmAcceptsTheFullTableAndIrqfdLifecycle()
    {
        var routing = new KvmIrqRouting(_vm);
        var router = new GsiRouter(routing);
        using var controller = new KvmMsiController(router, routing);
        var vectors = Enumerable.Range(0, 4).Select(_ => (KvmMsiVector)controller.CreateVector()).ToList();
        foreach (var (vector, i) in vectors.Select((v, i) => (v, i)))
            vector.Configure(new MsiMessage(0xFEE0_0000, 0x40 + (uint)i), deliverable: true);
        Assert.Equal(GsiRouter.LegacyRoutes.Count + 4, router.BuildTable().Length);
        Assert.All(vectors, v => Assert.True(v.IrqfdAssigned));

        vectors[0].Fire(default); // KVM consumes the count and injects into the (idle) LAPIC
        Assert.Equal(0UL, vectors[0].EventFd.Read());

        vectors[1].Configure(default, deliverable: false);
        vectors[1].Configure(new MsiMessage(0xFEE0_0000, 0x51), deliverable: true); // re-assign after deassign
        Assert.True(vectors[1].IrqfdAssigned);
    }

    [KvmFact]
    public void IoeventfdsRegisterOnceAndMoveAndTheConfigPortsAreOnTheBus()
    {
        var pio = new IoBus("port I/O");
        var mmio = new IoBus("MMIO");
        var space = new IoBusAddressSpace(mmio, _vm, pio: false);
        using var eventFd = new EventFd(nonBlocking: true);
        Assert.True(space.TryAddIoEvent(eventFd.Value, 0xC000_3000, 2));
        Assert.False(space.TryAddIoEvent(eventFd.Value, 0xC000_3000, 2)); // KVM refuses the duplicate (EEXIST)
        space.RemoveIoEvent(eventFd.Value, 0xC000_3000, 2);
        Assert.True(space.TryAddIoEvent(eventFd.Value, 0xD000_3000, 2));
        space.RemoveIoEvent(eventFd.Value, 0xD000_3000, 2);

        var lines = new List<uint>();
        using var root = new PciRoot(_vm, pio, mmio, gsi => { lines.Add(gsi); return new NullLine(); },
            PciBarAllocator.CreateDefault(64 << 20, PciRoot.PhysicalAddressBits()));
        Span<byte> data = stackalloc byte[4];
        pio.Write(0xCF8, BitConverter.GetBytes(0x8000_0008u));
        pio.Read(0xCFC, data);
        Assert.Equal(0x0600_0000u, BitConverter.ToUInt32(data) & 0xFFFF_0000); // host bridge class
        Assert.Empty(root.InterruptRoutes);
    }

    [KvmFact]
    public void HostAddressWidthIsSane()
    {
        int bits = PciRoot.PhysicalAddressBits();
        Assert.InRange(bits, 36, 52);
    }

    private sealed class NullLine : IInterruptLine
    {
        public void SetLevel(bool asserted)
        {
        }
    }
}
