using MiniVmm.Kvm;
using MiniVmm.Pci;

namespace MiniVmm.Machine.Pci;

/// <summary>
/// Owns the VM's GSI routing table. KVM_SET_GSI_ROUTING replaces the entire table, so every change
/// re-sends the legacy irqchip routes along with the MSI routes. The legacy part is exactly KVM's own
/// default (virt/kvm/irqchip.c default_routing: GSI n → IOAPIC pin n for n &lt; 24, and GSI n → PIC
/// master/slave pin n mod 8 for n &lt; 16), so installing our first table changes nothing for the UART,
/// the PIT (GSI 0 → IOAPIC pin 0, which is what MpTable tells Linux) or PCI INTx on GSIs 16-23.
/// MSI routes use GSIs from 24 up, one per MSI-X vector.
/// Thread-safety: <see cref="_lock"/> guards <see cref="_msiRoutes"/>, <see cref="_allocated"/> and
/// <see cref="_nextGsi"/>, and is held across the ioctl so tables reach KVM in the order they were built.
/// </summary>
public sealed class GsiRouter(IIrqRouting kvm)
{
    public const uint IoapicPins = 24;
    public const uint PicPins = 16;
    public const uint FirstMsiGsi = IoapicPins;
    /// <summary>KVM_MAX_IRQ_ROUTES on x86: KVM rejects a routing entry whose GSI is not below it.</summary>
    public const uint MaxGsi = 4096;

    private readonly Lock _lock = new();
    private readonly SortedDictionary<uint, MsiMessage> _msiRoutes = [];
    private readonly SortedSet<uint> _allocated = [];
    private uint _nextGsi = FirstMsiGsi;

    /// <summary>KVM's default irqchip routes, in KVM's order (IOAPIC entry first, then the PIC's).</summary>
    public static IReadOnlyList<KvmIrqRoutingEntry> LegacyRoutes { get; } = BuildLegacyRoutes();

    /// <summary>How many tables have been sent to KVM (diagnostics and tests).</summary>
    public int Commits { get; private set; }

    /// <summary>Reserves an unused GSI for an MSI vector (no route until <see cref="SetMsiRoute"/>).</summary>
    public uint AllocateMsiGsi()
    {
        lock (_lock)
        {
            for (uint gsi = _nextGsi; gsi < MaxGsi; gsi++)
            {
                if (_allocated.Add(gsi))
                {
                    _nextGsi = gsi + 1;
                    return gsi;
                }
            }
            // Wrapped: look again from the start for a freed one.
            for (uint gsi = FirstMsiGsi; gsi < _nextGsi; gsi++)
            {
                if (_allocated.Add(gsi))
                    return gsi;
            }
            throw new InvalidOperationException($"all {MaxGsi - FirstMsiGsi} MSI GSIs are in use");
        }
    }

    /// <summary>Releases a GSI and drops its route.</summary>
    public void FreeMsiGsi(uint gsi)
    {
        lock (_lock)
        {
            _allocated.Remove(gsi);
            if (_msiRoutes.Remove(gsi))
                CommitLocked();
        }
    }

    /// <summary>Points <paramref name="gsi"/> at an MSI message; sends the table when it changed.</summary>
    public void SetMsiRoute(uint gsi, MsiMessage message)
    {
        lock (_lock)
        {
            if (!_allocated.Contains(gsi))
                throw new InvalidOperationException($"GSI {gsi} was not allocated for MSI");
            if (_msiRoutes.TryGetValue(gsi, out var current) && current == message)
                return;
            _msiRoutes[gsi] = message;
            CommitLocked();
        }
    }

    /// <summary>Drops the route of <paramref name="gsi"/> (a masked vector); sends the table when it changed.</summary>
    public void RemoveMsiRoute(uint gsi)
    {
        lock (_lock)
        {
            if (_msiRoutes.Remove(gsi))
                CommitLocked();
        }
    }

    /// <summary>The full table as it would be sent now: legacy routes, then MSI routes by GSI.</summary>
    public KvmIrqRoutingEntry[] BuildTable()
    {
        lock (_lock)
            return BuildTableLocked();
    }

    private KvmIrqRoutingEntry[] BuildTableLocked() =>
    [
        .. LegacyRoutes,
        .. _msiRoutes.Select(route => KvmIrqRoutingEntry.Msi(route.Key, route.Value.AddressLow, route.Value.AddressHigh, route.Value.Data)),
    ];

    private void CommitLocked()
    {
        kvm.SetGsiRouting(BuildTableLocked());
        Commits++;
    }

    private static KvmIrqRoutingEntry[] BuildLegacyRoutes()
    {
        var routes = new List<KvmIrqRoutingEntry>();
        for (uint gsi = 0; gsi < IoapicPins; gsi++)
        {
            routes.Add(KvmIrqRoutingEntry.Irqchip(gsi, KvmIrqRoutingEntry.IrqchipIoapic, gsi));
            if (gsi < PicPins)
            {
                uint pic = gsi < 8 ? KvmIrqRoutingEntry.IrqchipPicMaster : KvmIrqRoutingEntry.IrqchipPicSlave;
                routes.Add(KvmIrqRoutingEntry.Irqchip(gsi, pic, gsi % 8));
            }
        }
        return [.. routes];
    }
}
