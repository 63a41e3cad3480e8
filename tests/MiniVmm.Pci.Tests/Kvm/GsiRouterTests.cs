using MiniVmm.Kvm;
using MiniVmm.Machine.Pci;
using MiniVmm.Pci;

namespace MiniVmm.Pci.Tests.Kvm;

/// <summary>Records each routing table and irqfd call instead of making the ioctls.</summary>
internal sealed class RecordingIrqRouting : IIrqRouting
{
    public List<KvmIrqRoutingEntry[]> Tables { get; } = [];
    public List<(string Call, int Fd, uint Gsi)> Irqfds { get; } = [];

    public void SetGsiRouting(ReadOnlySpan<KvmIrqRoutingEntry> entries) => Tables.Add(entries.ToArray());

    public void AssignIrqfd(int eventFd, uint gsi) => Irqfds.Add(("assign", eventFd, gsi));

    public void DeassignIrqfd(int eventFd, uint gsi) => Irqfds.Add(("deassign", eventFd, gsi));
}

public sealed class GsiRouterTests
{
    [Fact]
    public void LegacyRoutesAreKvmsDefaultTable()
    {
        var routes = GsiRouter.LegacyRoutes;
        Assert.Equal(24 + 16, routes.Count);
        Assert.All(routes, r => Assert.Equal(KvmIrqRoutingEntry.TypeIrqchip, r.Type));
        for (uint gsi = 0; gsi < 24; gsi++)
        {
            var forGsi = routes.Where(r => r.Gsi == gsi).ToList();
            Assert.Contains(forGsi, r => r.IrqchipOrAddressLo == KvmIrqRoutingEntry.IrqchipIoapic && r.PinOrAddressHi == gsi);
            if (gsi < 16)
            {
                uint pic = gsi < 8 ? KvmIrqRoutingEntry.IrqchipPicMaster : KvmIrqRoutingEntry.IrqchipPicSlave;
                Assert.Contains(forGsi, r => r.IrqchipOrAddressLo == pic && r.PinOrAddressHi == gsi % 8);
                Assert.Equal(2, forGsi.Count);
            }
            else
            {
                Assert.Single(forGsi);
            }
        }
    }

    [Fact]
    public void EveryChangeSendsTheWholeTableWithLegacyRoutesFirst()
    {
        var kvm = new RecordingIrqRouting();
        var router = new GsiRouter(kvm);
        uint a = router.AllocateMsiGsi();
        uint b = router.AllocateMsiGsi();
        Assert.Equal((24u, 25u), (a, b));
        Assert.Empty(kvm.Tables); // allocating is not routing

        router.SetMsiRoute(b, new MsiMessage(0xFEE0_1000, 0x41));
        router.SetMsiRoute(a, new MsiMessage(0x1_FEE0_0000, 0x40));
        var table = kvm.Tables[^1];
        Assert.Equal(GsiRouter.LegacyRoutes, table[..40]);
        Assert.Equal(KvmIrqRoutingEntry.Msi(24, 0xFEE0_0000, 1, 0x40), table[40]);
        Assert.Equal(KvmIrqRoutingEntry.Msi(25, 0xFEE0_1000, 0, 0x41), table[41]);
        Assert.Equal(42, table.Length);

        router.SetMsiRoute(a, new MsiMessage(0x1_FEE0_0000, 0x40)); // unchanged: no ioctl
        Assert.Equal(2, kvm.Tables.Count);
        router.RemoveMsiRoute(a);
        Assert.Equal([KvmIrqRoutingEntry.Msi(25, 0xFEE0_1000, 0, 0x41)], kvm.Tables[^1][40..]);
        router.RemoveMsiRoute(a);
        Assert.Equal(3, router.Commits);
    }

    [Fact]
    public void FreedGsisAreReusedAndUnallocatedOnesRefused()
    {
        var router = new GsiRouter(new RecordingIrqRouting());
        Assert.Throws<InvalidOperationException>(() => router.SetMsiRoute(24, default));
        uint gsi = router.AllocateMsiGsi();
        router.SetMsiRoute(gsi, new MsiMessage(0xFEE0_0000, 0x30));
        router.FreeMsiGsi(gsi);
        Assert.Equal(GsiRouter.LegacyRoutes.Count, router.BuildTable().Length);
        for (uint i = 25; i < GsiRouter.MaxGsi; i++)
            router.AllocateMsiGsi();
        Assert.Equal(gsi, router.AllocateMsiGsi());
        Assert.Throws<InvalidOperationException>(() => router.AllocateMsiGsi());
    }

    [Fact]
    public void MaskedVectorDropsItsRouteAndIrqfdAndUnmaskRestoresThem()
    {
        var kvm = new RecordingIrqRouting();
        var router = new GsiRouter(kvm);
        using var controller = new KvmMsiController(router, kvm);
        var vector = (KvmMsiVector)controller.CreateVector();
        var message = new MsiMessage(0xFEE0_0000, 0x40);

        vector.Configure(message, deliverable: false);
        Assert.Empty(kvm.Irqfds);
        vector.Configure(message, deliverable: true);
        Assert.Equal([("assign", vector.EventFd.Value, vector.Gsi)], kvm.Irqfds);
        Assert.Contains(KvmIrqRoutingEntry.Msi(vector.Gsi, 0xFEE0_0000, 0, 0x40), kvm.Tables[^1]);
        vector.Configure(message with { Data = 0x41 }, deliverable: true); // new message, same irqfd
        Assert.Single(kvm.Irqfds);
        vector.Configure(message, deliverable: false);
        Assert.Equal(("deassign", vector.EventFd.Value, vector.Gsi), kvm.Irqfds[^1]);
        Assert.Equal(GsiRouter.LegacyRoutes.Count, kvm.Tables[^1].Length);
        Assert.False(vector.IrqfdAssigned);
    }
}
