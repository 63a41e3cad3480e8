using MiniVmm.Kvm;
using MiniVmm.Pci;
using MiniVmm.Sys;

namespace MiniVmm.Machine.Pci;

/// <summary>
/// MSI-X vectors delivered by KVM: each vector owns a GSI and an eventfd registered with KVM_IRQFD on
/// that GSI, so firing is one eventfd write from any thread and KVM injects the MSI the route names.
/// While a vector is not deliverable (masked, function-masked, MSI-X off) its irqfd is deassigned and
/// its route removed; the MSI-X model keeps the pending bit and fires again on unmask.
/// Thread-safety: <see cref="_lock"/> guards <see cref="_vectors"/>.
/// </summary>
public sealed class KvmMsiController(GsiRouter router, IIrqRouting kvm) : IMsiController, IDisposable
{
    private readonly Lock _lock = new();
    private readonly List<KvmMsiVector> _vectors = [];

    public IReadOnlyList<KvmMsiVector> Vectors
    {
        get
        {
            lock (_lock)
                return [.. _vectors];
        }
    }

    public IMsiVector CreateVector()
    {
        var vector = new KvmMsiVector(router, kvm, router.AllocateMsiGsi());
        lock (_lock)
            _vectors.Add(vector);
        return vector;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var vector in _vectors)
                vector.Dispose();
            _vectors.Clear();
        }
    }
}

/// <summary>
/// One MSI vector: a GSI plus an irqfd. Calls come from the MSI-X model under its table lock, so they
/// are already serialized per vector; <see cref="_lock"/> guards <see cref="_assigned"/> only against
/// <see cref="Dispose"/> from another thread.
/// </summary>
public sealed class KvmMsiVector : IMsiVector, IDisposable
{
    private readonly Lock _lock = new();
    private readonly GsiRouter _router;
    private readonly IIrqRouting _kvm;
    private bool _assigned;
    private bool _disposed;

    internal KvmMsiVector(GsiRouter router, IIrqRouting kvm, uint gsi)
    {
        _router = router;
        _kvm = kvm;
        Gsi = gsi;
    }

    public uint Gsi { get; }

    /// <summary>Non-blocking so a stale count can be drained when the irqfd goes away.</summary>
    public EventFd EventFd { get; } = new(nonBlocking: true);

    public bool IrqfdAssigned
    {
        get
        {
            lock (_lock)
                return _assigned;
        }
    }

    public void Configure(MsiMessage message, bool deliverable)
    {
        lock (_lock)
        {
            if (_disposed)
                return;
            if (deliverable)
            {
                // Route first: an irqfd that fires before its GSI has a route injects nothing.
                _router.SetMsiRoute(Gsi, message);
                if (!_assigned)
                {
                    _kvm.AssignIrqfd(EventFd.Value, Gsi);
                    _assigned = true;
                }
            }
            else
            {
                DeassignLocked();
                _router.RemoveMsiRoute(Gsi);
            }
        }
    }

    /// <summary>One eventfd write; KVM's irqfd turns it into the routed MSI.</summary>
    public void Fire(MsiMessage message)
    {
        lock (_lock)
        {
            if (!_disposed)
                EventFd.Signal();
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
                return;
            _disposed = true;
            try
            {
                DeassignLocked();
                _router.FreeMsiGsi(Gsi);
            }
            catch (KvmException)
            {
                // The VM went first (its fd is closed): nothing is left to undo.
            }
            EventFd.Dispose();
        }
    }

    private void DeassignLocked()
    {
        if (!_assigned)
            return;
        _kvm.DeassignIrqfd(EventFd.Value, Gsi);
        _assigned = false;
        // KVM consumes the count when it injects; anything left would replay on the next assign.
        EventFd.Read();
    }
}
