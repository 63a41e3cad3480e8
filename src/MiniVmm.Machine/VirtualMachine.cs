using MiniVmm.Boot;
using MiniVmm.Kvm;
using MiniVmm.Machine.Bus;
using MiniVmm.Machine.Cpu;
using MiniVmm.Machine.Vcpu;
using MiniVmm.Memory;

namespace MiniVmm.Machine;

/// <summary>
/// A KVM VM with its RAM, in-kernel interrupt controllers, buses and vCPU threads. It knows nothing
/// of Linux: <see cref="LinuxMachine"/> loads a kernel into it and wires the legacy devices.
/// </summary>
public sealed class VirtualMachine : IMachineControl, IDisposable
{
    private readonly KvmSystem _kvm;
    private readonly List<KvmVcpu> _vcpus = [];
    private readonly List<VcpuThread> _threads = [];
    private readonly TaskCompletionSource<StopReason> _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private VirtualMachine(KvmSystem kvm, KvmVm vm, GuestMemory memory, Tracer tracer)
    {
        _kvm = kvm;
        Kvm = vm;
        Memory = memory;
        Tracer = tracer;
    }

    public KvmVm Kvm { get; }
    public GuestMemory Memory { get; }
    public IoBus Pio { get; } = new("port I/O");
    public IoBus Mmio { get; } = new("MMIO");
    public Tracer Tracer { get; }
    public IReadOnlyList<VcpuThread> VcpuThreads => _threads;

    /// <summary>The stop reason once the machine has stopped (or is stopping).</summary>
    public Task<StopReason> Stopped => _stopped.Task;

    /// <summary>Creates the VM: RAM slots, TSS, irqchip (PIC + IOAPIC + LAPICs), PIT, and configured vCPUs.</summary>
    public static VirtualMachine Create(ulong ramSize, int vcpuCount, CpuidPolicy cpuid, Tracer tracer, string kvmDevice = KvmSystem.DevicePath)
    {
        var kvm = KvmSystem.Open(kvmDevice);
        KvmVm? vm = null;
        GuestMemory? memory = null;
        try
        {
            vm = kvm.CreateVm();
            memory = GuestMemory.Create(MemoryLayout.RamRanges(ramSize));
            var machine = new VirtualMachine(kvm, vm, memory, tracer);
            uint slot = 0;
            foreach (var region in memory.Regions)
                vm.SetUserMemoryRegion(slot++, region.Start.Value, region.Size, region.HostAddress);
            vm.SetTssAddress(MemoryLayout.TssAddress);
            vm.SetIdentityMapAddress(MemoryLayout.IdentityMapAddress);
            // The irqchip must exist before any vCPU, the PIT after the irqchip.
            vm.CreateIrqchip();
            vm.CreatePit2();
            var supported = kvm.GetSupportedCpuid();
            for (int id = 0; id < vcpuCount; id++)
            {
                var vcpu = vm.CreateVcpu(id);
                machine._vcpus.Add(vcpu);
                vcpu.SetCpuid(cpuid.ForVcpu(supported, apicId: id, vcpuCount));
                BootCpuState.ApplyCommon(vcpu);
                machine._threads.Add(new VcpuThread(vcpu, memory, machine.Pio, machine.Mmio, machine, tracer));
            }
            return machine;
        }
        catch
        {
            memory?.Dispose();
            vm?.Dispose();
            kvm.Dispose();
            throw;
        }
    }

    /// <summary>Puts the bootstrap processor at the kernel's entry; the others wait for the guest's INIT/SIPI.</summary>
    public void SetBootState(BootInfo boot) => BootCpuState.Apply(_vcpus[0], boot);

    /// <summary>An interrupt line on a GSI of the in-kernel IOAPIC/PIC, driven with KVM_IRQ_LINE.</summary>
    public IInterruptLine InterruptLine(uint gsi) => new KvmInterruptLine(Kvm, gsi);

    public void RequestStop(StopReason reason)
    {
        if (!_stopped.TrySetResult(reason))
            return;
        foreach (var thread in _threads)
            thread.Stop();
    }

    /// <summary>Runs every vCPU on its own thread until something requests a stop; returns why.</summary>
    private IReadOnlyList<Thread> _runThreads = [];

    public StopReason Run()
    {
        var threads = _threads.Select(vcpu => new Thread(() => RunGuarded(vcpu))
        {
            Name = $"vcpu{vcpu.Id}",
            IsBackground = true,
        }).ToList();
        _runThreads = threads;
        foreach (var thread in threads)
            thread.Start();
        var reason = _stopped.Task.GetAwaiter().GetResult();
        foreach (var thread in threads)
            thread.Join(TimeSpan.FromSeconds(5));
        return reason;
    }

    private void RunGuarded(VcpuThread vcpu)
    {
        try
        {
            vcpu.Run();
        }
        catch (KvmException error)
        {
            RequestStop(new StopReason(ExitCodes.HostFailure, $"vCPU {vcpu.Id}: {error.Message}"));
        }
#pragma warning disable CA1031 // a device bug on a vCPU thread must end the VM with a message, not kill the process silently
        catch (Exception error)
#pragma warning restore CA1031
        {
            RequestStop(new StopReason(ExitCodes.HostFailure, $"vCPU {vcpu.Id}: internal error in MiniVmm: {error}"));
        }
    }

    public void Dispose()
    {
        RequestStop(new StopReason(ExitCodes.GuestPowerOff, "machine disposed"));
        // A vCPU thread still inside KVM_RUN or a device handler may touch guest RAM: while any is alive, its memory
        // and KVM objects are left to the process's exit rather than unmapped under it.
        if (_runThreads.Any(thread => !thread.Join(TimeSpan.FromSeconds(5))))
        {
            global::System.Console.Error.WriteLine("minivmm: a vCPU thread did not stop; guest memory is left mapped until exit");
            return;
        }
        foreach (var vcpu in _vcpus)
            vcpu.Dispose();
        Kvm.Dispose();
        Memory.Dispose();
        _kvm.Dispose();
    }

    private sealed class KvmInterruptLine(KvmVm vm, uint gsi) : IInterruptLine
    {
        public void SetLevel(bool asserted) => vm.SetIrqLine(gsi, asserted);
    }
}
