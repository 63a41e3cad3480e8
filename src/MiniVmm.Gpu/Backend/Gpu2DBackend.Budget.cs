namespace MiniVmm.Gpu.Backend;

/// <summary>Charging the host budget (<see cref="HostBudget"/>); every method runs under <see cref="_lock"/>.</summary>
public sealed partial class Gpu2DBackend
{
    private HostBudget? _budgetState; // guarded by _lock

    private HostBudget Budget => _budgetState ??= new HostBudget(_options.MaxHostMemoryBytes);

    /// <summary>Everything charged to the host budget now: pixels, pages, entries, objects, scanout copies.</summary>
    public long BudgetBytes
    {
        get
        {
            lock (_lock)
                return Budget.Bytes;
        }
    }

    /// <summary>Resources, blobs and contexts charged to the budget now.</summary>
    public int BudgetObjects
    {
        get
        {
            lock (_lock)
                return Budget.Objects;
        }
    }

    /// <summary>The refusal <paramref name="count"/> more backing entries would get now, checked before they are read.</summary>
    internal GpuResponse? RefuseBackingEntries(uint count)
    {
        lock (_lock)
            return count == 0 ? null : Budget.Refuse($"{count} backing entries", HostBudget.BackingCost(count), entries: count);
    }

    private static long ChargeOf(Resource2D resource) => resource.Pixels.LongLength + HostBudget.PerObjectBytes;

    private static long ChargeOf(BlobResource blob) =>
        (long)(blob.Host?.Size ?? 0) + HostBudget.PerObjectBytes + HostBudget.BackingCost(blob.Guest?.EntryCount ?? 0);

    private void ReleaseBackingLocked(BackingStore? backing)
    {
        if (backing is not null)
            Budget.Release(HostBudget.BackingCost(backing.EntryCount), entries: backing.EntryCount);
    }

    /// <summary>Whether showing <paramref name="cost"/> on <paramref name="scanout"/> (instead of what it shows) fits the budget.</summary>
    private GpuResponse? RefuseScanoutLocked(Scanout scanout, long cost) =>
        Budget.Refuse($"scanout {scanout.Id}", cost - scanout.BudgetCharge);

    /// <summary>Charges the scanout's new copies, after <see cref="RefuseScanoutLocked"/> said they fit.</summary>
    private void ChargeScanoutLocked(Scanout scanout, long cost)
    {
        Budget.Release(scanout.BudgetCharge);
        scanout.BudgetCharge = 0;
        if (Budget.TryCharge($"scanout {scanout.Id}", cost) is null)
            scanout.BudgetCharge = cost;
    }

    private void ReleaseScanoutLocked(Scanout scanout)
    {
        Budget.Release(scanout.BudgetCharge);
        scanout.BudgetCharge = 0;
    }
}
