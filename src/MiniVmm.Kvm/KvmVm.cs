using System.Runtime.InteropServices;

namespace MiniVmm.Kvm;

/// <summary>A VM fd: memory slots, the in-kernel irqchip and PIT, interrupt routing, irqfd and ioeventfd.</summary>
public sealed unsafe class KvmVm : KvmFd
{
    internal KvmVm(KvmSystem system, int fd) : base(fd) => System = system;

    public KvmSystem System { get; }

    public void SetTssAddress(ulong address) => IoctlValue("KVM_SET_TSS_ADDR", Ioctls.SetTssAddr, (nuint)address);

    public void SetIdentityMapAddress(ulong address) => IoctlIn("KVM_SET_IDENTITY_MAP_ADDR", Ioctls.SetIdentityMapAddr, address);

    public void SetUserMemoryRegion(uint slot, ulong guestPhysicalAddress, ulong size, nint hostAddress, uint flags = 0) =>
        IoctlIn("KVM_SET_USER_MEMORY_REGION", Ioctls.SetUserMemoryRegion, new KvmUserspaceMemoryRegion
        {
            Slot = slot,
            Flags = flags,
            GuestPhysAddr = guestPhysicalAddress,
            MemorySize = size,
            UserspaceAddr = (ulong)hostAddress,
        });

    /// <summary>Deletes a slot (KVM_SET_USER_MEMORY_REGION with size 0).</summary>
    public void DeleteUserMemoryRegion(uint slot) => SetUserMemoryRegion(slot, 0, 0, 0);

    public void CreateIrqchip() => IoctlValue("KVM_CREATE_IRQCHIP", Ioctls.CreateIrqchip, 0);

    public void CreatePit2(uint flags = KvmPitConfig.SpeakerDummy) =>
        IoctlIn("KVM_CREATE_PIT2", Ioctls.CreatePit2, new KvmPitConfig { Flags = flags });

    public void SetIrqLine(uint irq, bool level) =>
        IoctlIn("KVM_IRQ_LINE", Ioctls.IrqLine, new KvmIrqLevel { Irq = irq, Level = level ? 1u : 0u });

    /// <summary>Replaces the whole GSI routing table (KVM semantics): include every legacy route still in use.</summary>
    public void SetGsiRouting(ReadOnlySpan<KvmIrqRoutingEntry> entries)
    {
        var buffer = new byte[8 + entries.Length * sizeof(KvmIrqRoutingEntry)];
        MemoryMarshal.Write(buffer, (uint)entries.Length);
        MemoryMarshal.AsBytes(entries).CopyTo(buffer.AsSpan(8));
        fixed (byte* p = buffer)
            IoctlPointer("KVM_SET_GSI_ROUTING", Ioctls.SetGsiRouting, p);
    }

    public void AssignIrqfd(int eventFd, uint gsi) =>
        IoctlIn("KVM_IRQFD", Ioctls.Irqfd, new KvmIrqfd { Fd = (uint)eventFd, Gsi = gsi });

    public void DeassignIrqfd(int eventFd, uint gsi) =>
        IoctlIn("KVM_IRQFD (deassign)", Ioctls.Irqfd, new KvmIrqfd { Fd = (uint)eventFd, Gsi = gsi, Flags = KvmIrqfd.FlagDeassign });

    /// <summary>Makes guest writes to [address, address+length) signal <paramref name="eventFd"/> inside the kernel.</summary>
    public void AssignIoeventfd(int eventFd, ulong address, uint length, bool pio, ulong? datamatch = null) =>
        IoctlIn("KVM_IOEVENTFD", Ioctls.Ioeventfd, Ioeventfd(eventFd, address, length, pio, datamatch, deassign: false));

    public void DeassignIoeventfd(int eventFd, ulong address, uint length, bool pio, ulong? datamatch = null) =>
        IoctlIn("KVM_IOEVENTFD (deassign)", Ioctls.Ioeventfd, Ioeventfd(eventFd, address, length, pio, datamatch, deassign: true));

    private static KvmIoeventfd Ioeventfd(int eventFd, ulong address, uint length, bool pio, ulong? datamatch, bool deassign) => new()
    {
        Addr = address,
        Len = length,
        Fd = eventFd,
        Datamatch = datamatch ?? 0,
        Flags = (pio ? KvmIoeventfd.FlagPio : 0) | (datamatch.HasValue ? KvmIoeventfd.FlagDatamatch : 0)
            | (deassign ? KvmIoeventfd.FlagDeassign : 0),
    };

    /// <summary>Injects one MSI (x86: no device id).</summary>
    public void SignalMsi(uint addressLo, uint addressHi, uint data) =>
        IoctlIn("KVM_SIGNAL_MSI", Ioctls.SignalMsi, new KvmMsi { AddressLo = addressLo, AddressHi = addressHi, Data = data });

    public KvmVcpu CreateVcpu(int id)
    {
        int fd = IoctlValue("KVM_CREATE_VCPU", Ioctls.CreateVcpu, (nuint)id);
        return new KvmVcpu(fd, id, System.VcpuMmapSize);
    }
}
