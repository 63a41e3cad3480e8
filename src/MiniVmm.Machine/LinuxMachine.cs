using System.Runtime.InteropServices;
using MiniVmm.Boot;
using MiniVmm.Kvm;
using MiniVmm.Machine.Console;
using MiniVmm.Machine.Cpu;
using MiniVmm.Machine.Devices;
using MiniVmm.Machine.Gpu;
using MiniVmm.Machine.Pci;
using MiniVmm.Gpu;
using MiniVmm.Gpu.Backend;
using MiniVmm.Input;
using MiniVmm.Machine.Display;
using MiniVmm.NineP;
using MiniVmm.Sys;
using MiniVmm.Virtio;
using MiniVmm.Virtio.Transport;

namespace MiniVmm.Machine;

/// <summary>
/// Boots one Linux guest: builds the VM, loads the kernel, wires the legacy devices and the console,
/// runs until something stops it, and explains why. Read top to bottom: this is the whole flow.
/// </summary>
public static class LinuxMachine
{
    // ISA interrupt and port assignments of a PC (kvmtool and Firecracker use the same).
    private const ushort Com1Port = 0x3F8, I8042DataPort = 0x60, I8042CommandPort = 0x64;
    private const ushort CmosPort = 0x70, PostCode = 0x80, DebugExit = 0x501;
    private const uint Com1Gsi = 4;
    /// <summary>After the panic line, how long the kernel gets to print its backtrace before we stop it.</summary>
    private static readonly TimeSpan PanicGrace = TimeSpan.FromSeconds(3);

    public static StopReason Run(LinuxMachineOptions options, TextWriter diagnostics)
    {
        var cpuid = new CpuidPolicy();
        cpuid.Hide(options.CpuidHide);
        string commandLine = KernelCommandLine.Build(options.ExtraCommandLine, options.HostCompatibility, DeviceArguments(options));

        using var machine = VirtualMachine.Create(options.MemorySize, options.Cpus, cpuid, options.Tracer, options.KvmDevice);
        using var events = new EventLoop("devices", error => machine.RequestStop(new StopReason(ExitCodes.HostFailure, $"device event loop: {error}")));
        using var pci = new PciRoot(machine);
        var gpu = options.Gpu is { } gpuOptions ? AddGpu(pci, machine, events, gpuOptions, options) : null;
        using var gpuParts = gpu;
        using var shares = AddShares(pci, machine, events, options);
        using var input = options.InputDevices ? AddInput(pci, machine, events, options.Display) : null;
        var boot = LinuxLoader.Load(machine.Memory, options.Kernel, options.Initrd, commandLine, options.Cpus,
            new LoadOptions { InitrdName = options.Initrd.Length > 0 ? "initrd" : null, PciInterruptRoutes = pci.InterruptRoutes });
        TraceBoot(options, boot, commandLine);
        machine.SetBootState(boot);
        using var gdb = options.Gdb;
        gdb?.Start(machine, diagnostics);

        using var console = OpenConsole(options, machine);
        var uart = new Serial16550(machine.InterruptLine(Com1Gsi), console);
        machine.Pio.Register(Com1Port, 8, uart);
        var i8042 = new I8042(machine);
        machine.Pio.Register(I8042DataPort, 1, i8042.DataPort);
        machine.Pio.Register(I8042CommandPort, 1, i8042.CommandPort);
        machine.Pio.Register(CmosPort, 2, new CmosRtc());
        machine.Pio.Register(PostCode, 1, new PostCodePort());
        machine.Pio.Register(DebugExit, 4, new DebugExitPort(machine));

        WatchConsole(console.Watcher, machine, options);
        using var timeout = options.Timeout is { } limit
            ? new Timer(_ => machine.RequestStop(new StopReason(124, $"--timeout: stopped after {limit.TotalSeconds:0} s")), null, limit, Timeout.InfiniteTimeSpan)
            : null;
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, StopOnSignal(machine, 130, "SIGINT"));
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, StopOnSignal(machine, 143, "SIGTERM"));

        // SIGUSR1 and Ctrl-A s take the same numbered screenshots.
        Action takeScreenshot = gpu is null
            ? () => diagnostics.WriteLine("minivmm: no screenshot: the machine has no GPU (--gpu off)")
            : () => SaveNumberedScreenshot(gpu.Device, options, diagnostics);
        using var screenshot = gpu is null ? null : ScreenshotSignal.Route(takeScreenshot);
        console.Start(uart, takeScreenshot);
        events.Start();
        var reason = machine.Run();
        events.Stop();
        console.Flush();
        if (gpu is not null && options.ScreenshotOnExit is { } path)
            SaveScreenshot(gpu.Device, path, diagnostics);
        ReportEmulation(machine, options.Tracer, diagnostics);
        return reason;
    }

    private sealed record GpuParts(VirtioGpuDevice Device, VirtioPciDevice Transport, KvmHostVisibleRegion? Region) : IDisposable
    {
        public void Dispose()
        {
            Transport.Dispose();
            Region?.Dispose();
        }
    }

    /// <summary>
    /// The virtio-gpu device on PCI, its scanout going to the display (or nowhere when headless). With
    /// hostmem=SIZE it also gets the host-visible region: a 64-bit BAR announced by the shared-memory
    /// capability, where each mapped blob becomes its own KVM memory slot (slots after the RAM's).
    /// </summary>
    private static GpuParts AddGpu(PciRoot pci, VirtualMachine machine, EventLoop events, GpuOptions gpuOptions, LinuxMachineOptions options)
    {
        var tracer = options.Tracer;
        Action<string>? trace = tracer.IsEnabled(TraceCategories.Gpu) ? line => tracer.Write(TraceCategories.Gpu, line) : null;
        gpuOptions = gpuOptions with
        {
            CrossDomainTrace = tracer.IsEnabled(TraceCategories.Xdomain) ? line => tracer.Write(TraceCategories.Xdomain, line) : null,
            WinsrvTrace = tracer.IsEnabled(TraceCategories.Winsrv) ? line => tracer.Write(TraceCategories.Winsrv, line) : null,
        };
        var region = gpuOptions.HostMemoryBytes == 0 ? null
            : new KvmHostVisibleRegion(machine.Kvm, gpuOptions.HostMemoryBytes, firstSlot: (uint)machine.Memory.Regions.Count,
                log: line => global::System.Console.Error.WriteLine($"minivmm: virtio-gpu: {line}"));
        var device = new VirtioGpuDevice(gpuOptions, (IScanoutSink?)options.Display ?? NullScanoutSink.Instance, trace, region, events);
        var transport = new VirtioPciDevice(device, machine.Memory, events, new VirtioPciOptions
        {
            SharedMemory = region is null ? null : new VirtioSharedMemoryRegion(VirtioGpuHostVisibleShmId, gpuOptions.HostMemoryBytes),
        });
        pci.Add(transport);
        if (region is not null)
        {
            transport.SharedMemoryMoved += region.MoveTo;
            region.MoveTo(transport.SharedMemoryAddress);
        }
        return new GpuParts(device, transport, region);
    }

    /// <summary>What the devices tell the guest on the command line: Wayland channel names, shares to mount, a 9p root.</summary>
    private static string DeviceArguments(LinuxMachineOptions options) => string.Join(' ', new[] { options.Gpu?.WaylandSockets.KernelArgument }
        .Concat(options.Shares.Select(share => share.InitArgument))
        .Append(options.RootShare?.RootArguments)
        .Where(argument => !string.IsNullOrEmpty(argument)));

    /// <summary>One virtio-9p device on PCI per shared directory (the root share first, as the kernel mounts it first).</summary>
    private static OwnedParts AddShares(PciRoot pci, VirtualMachine machine, EventLoop events, LinuxMachineOptions options)
    {
        var devices = new OwnedParts();
        var tracer = options.Tracer;
        Action<string>? trace = tracer.IsEnabled(TraceCategories.NineP) ? line => tracer.Write(TraceCategories.NineP, line) : null;
        foreach (var share in options.RootShare is { } root ? options.Shares.Prepend(root) : options.Shares)
        {
            var directory = HostDirectory.Open(share.HostPath);
            var device = new Virtio9pDevice(new NinePServer(directory, share.ReadOnly), share.Tag, trace);
            var transport = new VirtioPciDevice(device, machine.Memory, events, new VirtioPciOptions());
            pci.Add(transport);
            devices.Add(transport, device, directory);
        }
        return devices;
    }

    /// <summary>The virtio-input keyboard and tablet (two PCI functions, as QEMU's virtio-keyboard and virtio-tablet).</summary>
    private static OwnedParts AddInput(PciRoot pci, VirtualMachine machine, EventLoop events, IDisplay? display)
    {
        var devices = new OwnedParts();
        var keyboard = VirtioInputDevice.Keyboard();
        var tablet = VirtioInputDevice.Tablet();
        display?.ConnectInput(new WindowInputDevices(keyboard, tablet));
        foreach (var device in new[] { keyboard, tablet })
        {
            var transport = new VirtioPciDevice(device, machine.Memory, events, new VirtioPciOptions());
            pci.Add(transport);
            devices.Add(transport);
        }
        return devices;
    }

    /// <summary>Devices, transports and host handles that end with the machine, disposed in the order added.</summary>
    private sealed class OwnedParts : IDisposable
    {
        private readonly List<IDisposable> _parts = [];

        public void Add(params IDisposable[] parts) => _parts.AddRange(parts);

        public void Dispose()
        {
            foreach (var part in _parts)
                part.Dispose();
        }
    }

    /// <summary>VIRTIO_GPU_SHM_ID_HOST_VISIBLE.</summary>
    private const byte VirtioGpuHostVisibleShmId = 1;

    private static int _screenshotCount;

    /// <summary>SIGUSR1 and Ctrl-A s dump the scanouts to screenshot-PID-N.png, -N-S.png for scanout S > 0 (next to --screenshot-on-exit, else the working directory).</summary>
    private static void SaveNumberedScreenshot(VirtioGpuDevice gpu, LinuxMachineOptions options, TextWriter diagnostics)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(options.ScreenshotOnExit ?? "x")) ?? ".";
        string path = Path.Combine(directory, $"screenshot-{Environment.ProcessId}-{Interlocked.Increment(ref _screenshotCount)}.png");
        SaveScreenshot(gpu, path, diagnostics);
    }

    private static void SaveScreenshot(VirtioGpuDevice gpu, string path, TextWriter diagnostics)
    {
        try
        {
            var written = PngWriter.WriteScreenshots(gpu.Scanouts, path);
            if (written.Count == 0 || written[0].ScanoutId != 0)
                diagnostics.WriteLine("minivmm: no screenshot: the guest has not set up scanout 0");
            foreach (var (scanoutId, file) in written)
                diagnostics.WriteLine($"minivmm: screenshot of scanout {scanoutId} written to {file}");
        }
        catch (IOException error)
        {
            diagnostics.WriteLine($"minivmm: screenshot to {path} failed: {error.Message}");
        }
        catch (UnauthorizedAccessException error)
        {
            diagnostics.WriteLine($"minivmm: screenshot to {path} failed: {error.Message}");
        }
    }

    private static SerialConsole OpenConsole(LinuxMachineOptions options, VirtualMachine machine)
    {
        int inputFd = options.Input is null && options.Serial.Kind == SerialTargetKind.Stdio ? 0 : -1;
        var output = options.Serial.Kind switch
        {
            SerialTargetKind.Stdio => options.Output ?? SerialConsole.OpenOutput("stdio"),
            SerialTargetKind.File => SerialConsole.OpenOutput("file:" + options.Serial.Path),
            _ => Stream.Null,
        };
        return new SerialConsole(machine, output, ownsOutput: options.Output is null, inputFd);
    }

    /// <summary>Stops on the user's markers, and turns a guest panic into a diagnosis once its report is out.</summary>
    private static void WatchConsole(ConsoleWatcher watcher, VirtualMachine machine, LinuxMachineOptions options)
    {
        foreach (var marker in options.ExitOnOutput)
            watcher.Watch(marker, _ => machine.RequestStop(new StopReason(ExitCodes.GuestPowerOff, $"console printed \"{marker}\" (--exit-on-output)")));

        var panicStop = new Action(() => machine.RequestStop(new StopReason(ExitCodes.GuestFailure,
            GuestConsoleDiagnosis.ForPanic(watcher.RecentLines(), KvmSystem.IsPvmHost))));
        Timer? grace = null;
        watcher.Watch(GuestConsoleDiagnosis.PanicMarker, _ => grace ??= new Timer(_ => panicStop(), null, PanicGrace, Timeout.InfiniteTimeSpan));
        watcher.Watch(GuestConsoleDiagnosis.PanicEnd, _ => panicStop());
    }

    private static Action<PosixSignalContext> StopOnSignal(VirtualMachine machine, int exitCode, string name) => context =>
    {
        context.Cancel = true;
        machine.RequestStop(new StopReason(exitCode, $"stopped by {name}"));
    };

    private static void TraceBoot(LinuxMachineOptions options, BootInfo boot, string commandLine)
    {
        var tracer = options.Tracer;
        if (!tracer.IsEnabled(TraceCategories.Boot))
            return;
        var kernel = options.Kernel;
        tracer.Write(TraceCategories.Boot, $"kernel {kernel.Name}: {kernel.Format}, protocol {kernel.BootProtocolVersion >> 8}.{kernel.BootProtocolVersion & 0xFF}, compression {kernel.Compression}, version {kernel.KernelVersion ?? "?"}");
        tracer.Write(TraceCategories.Boot, $"vmlinux at {boot.KernelRange}, entry 0x{boot.Entry:x}, zero page 0x{boot.ZeroPage:x}, CR3 0x{boot.PageTableRoot:x}");
        tracer.Write(TraceCategories.Boot, $"initrd {(boot.InitrdRange is { } r ? r.ToString() : "none")}, MP table {boot.MpTable}");
        foreach (var entry in boot.E820)
            tracer.Write(TraceCategories.Boot, $"e820 {entry}");
        tracer.Write(TraceCategories.Boot, $"command line: {commandLine}");
    }

    private static void ReportEmulation(VirtualMachine machine, Tracer tracer, TextWriter diagnostics)
    {
        var counts = machine.VcpuThreads.SelectMany(v => v.Fallback.Counts)
            .GroupBy(pair => pair.Key, pair => pair.Value)
            .Select(group => $"{group.Key.ToString().ToLowerInvariant()} x{group.Sum()}")
            .ToList();
        if (counts.Count > 0 && tracer.IsEnabled(TraceCategories.Emulation))
            diagnostics.WriteLine($"minivmm: completed for the host KVM: {string.Join(", ", counts)}");
    }
}
