using MiniVmm.Kvm;

namespace MiniVmm.Machine.Pci;

/// <summary>
/// The three KVM VM ioctls interrupt routing needs. The router and MSI vectors talk to this rather than
/// to <see cref="KvmVm"/> so tests can record the exact tables and irqfd calls without a VM.
/// </summary>
public interface IIrqRouting
{
    /// <summary>KVM_SET_GSI_ROUTING: replaces the whole table.</summary>
    void SetGsiRouting(ReadOnlySpan<KvmIrqRoutingEntry> entries);

    void AssignIrqfd(int eventFd, uint gsi);

    void DeassignIrqfd(int eventFd, uint gsi);
}

/// <summary>The real thing: forwards to the VM fd.</summary>
public sealed class KvmIrqRouting(KvmVm vm) : IIrqRouting
{
    public void SetGsiRouting(ReadOnlySpan<KvmIrqRoutingEntry> entries) => vm.SetGsiRouting(entries);

    public void AssignIrqfd(int eventFd, uint gsi) => vm.AssignIrqfd(eventFd, gsi);

    public void DeassignIrqfd(int eventFd, uint gsi) => vm.DeassignIrqfd(eventFd, gsi);
}
