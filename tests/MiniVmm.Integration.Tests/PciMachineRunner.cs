using System.Text;
using MiniVmm.Boot;
using MiniVmm.Kvm;
using MiniVmm.Machine;
using MiniVmm.Machine.Bus;
using MiniVmm.Machine.Cpu;
using MiniVmm.Machine.Devices;
using MiniVmm.Machine.Pci;
using MiniVmm.Pci;
using MiniVmm.Sys;
using MiniVmm.Virtio;
using MiniVmm.Virtio.Transport;

namespace MiniVmm.Integration.Tests;

/// <summary>
/// Builds the machine by hand (LinuxMachine is the CLI's composition): VM, kernel or payload, UART,
/// keyboard controller, CMOS, exit port, and PCI with one virtio device, as the lead will wire it.
/// </summary>
internal static class PciMachineRunner
{
    public sealed record Result(StopReason Reason, string Console, byte Status, bool IoEventsAssigned, long MmioNotifies, int IrqfdsAssigned);

    /// <summary>
    /// A device made once the VM exists (a host-visible region needs the VM's memory slots). <paramref name="Wire"/>
    /// connects it to its transport before the guest starts; <paramref name="Owned"/> is disposed before the VM;
    /// <paramref name="Allocator"/> replaces the default BAR windows.
    /// </summary>
    public sealed record DeviceSetup(IVirtioDevice Device, VirtioPciOptions? Options = null, Action<VirtioPciDevice>? Wire = null,
        IDisposable? Owned = null, PciBarAllocator? Allocator = null);

    public static Result Run(KernelImage kernel, IVirtioDevice device, string commandLine, TimeSpan timeout,
        VirtioPciOptions? options = null, Action<VirtualMachine>? onStart = null) =>
        Run(kernel, _ => new DeviceSetup(device, options), commandLine, timeout, onStart);

    public static Result Run(KernelImage kernel, Func<VirtualMachine, DeviceSetup> createDevice, string commandLine, TimeSpan timeout,
        Action<VirtualMachine>? onStart = null)
    {
        using var machine = VirtualMachine.Create(256UL << 20, 1, new CpuidPolicy(), Tracer.Disabled, KvmAvailability.Device);
        var setup = createDevice(machine);
        using var owned = setup.Owned;
        using var loop = new EventLoop("pci-test-events", error => machine.RequestStop(new StopReason(ExitCodes.HostFailure, $"event loop: {error}")));
        using var pci = new PciRoot(machine, setup.Allocator);
        using var transport = new VirtioPciDevice(setup.Device, machine.Memory, loop, setup.Options);
        pci.Add(transport);
        setup.Wire?.Invoke(transport);

        var boot = LinuxLoader.Load(machine.Memory, kernel, [], commandLine, 1, new LoadOptions { PciInterruptRoutes = pci.InterruptRoutes });
        machine.SetBootState(boot);
        var console = new CapturedSerial();
        machine.Pio.Register(0x3F8, 8, new Serial16550(machine.InterruptLine(4), console));
        var i8042 = new I8042(machine);
        machine.Pio.Register(I8042.DataPortAddress, 1, i8042.DataPort);
        machine.Pio.Register(I8042.CommandPortAddress, 1, i8042.CommandPort);
        machine.Pio.Register(0x70, 2, new CmosRtc());
        machine.Pio.Register(DebugExitPort.DefaultPort, DebugExitPort.Length, new DebugExitPort(machine));
        loop.Start();
        onStart?.Invoke(machine);
        using var timer = new Timer(_ => machine.RequestStop(new StopReason(124, $"timed out after {timeout.TotalSeconds:0} s")), null, timeout, Timeout.InfiniteTimeSpan);
        var reason = machine.Run();
        return new Result(reason, console.Text, transport.Status, transport.IoEventsAssigned, transport.MmioNotifies,
            pci.MsiVectors.Count(v => v.IrqfdAssigned));
    }
}

internal sealed class CapturedSerial : ISerialOutput
{
    private readonly Lock _lock = new();
    private readonly StringBuilder _text = new();

    public string Text
    {
        get
        {
            lock (_lock)
                return _text.ToString();
        }
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        lock (_lock)
            _text.Append(Encoding.ASCII.GetString(data));
    }
}
