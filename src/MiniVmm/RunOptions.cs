using System.CommandLine;
using MiniVmm.Boot;
using MiniVmm.Gpu;
using MiniVmm.Kvm;
using MiniVmm.Machine;
using MiniVmm.Machine.Debug;
using MiniVmm.Memory;
using MiniVmm.NineP;

namespace MiniVmm;

/// <summary>The options of `minivmm run`, and their validation into <see cref="LinuxMachineOptions"/>.</summary>
internal sealed class RunOptions
{
    private readonly Option<string> _kernel = new("--kernel", "-k") { Description = "Kernel to boot: a bzImage (boot protocol >= 2.12) or an ELF vmlinux.", Required = true };
    private readonly Option<string?> _initrd = new("--initrd", "-i") { Description = "Initial ramdisk (cpio, uncompressed is fastest)." };
    private readonly Option<string?> _append = new("--append", "-a") { Description = "Kernel command-line arguments, added after MiniVmm's defaults (console=ttyS0 reboot=k)." };
    private readonly Option<string> _memory = new("--memory", "-m") { Description = "Guest RAM: a bare number is MiB (1024); or 512M, 2G, 2Gi.", DefaultValueFactory = _ => "512M" };
    private readonly Option<int> _cpus = new("--cpus", "-c") { Description = "Number of vCPUs (1-64), each on its own thread.", DefaultValueFactory = _ => 1 };
    private readonly Option<string> _serial = new("--serial") { Description = "Where COM1 goes: stdio, file:PATH, or none.", DefaultValueFactory = _ => "stdio" };
    private readonly Option<string[]> _trace = new("--trace") { Description = "Trace to stderr: exits, pio, mmio, emulation, boot, gpu, xdomain, winsrv, ninep, all (comma-separated).", AllowMultipleArgumentsPerToken = true };
    private readonly Option<string[]> _cpuidHide = new("--cpuid-hide") { Description = "CPUID features to hide from the guest, by /proc/cpuinfo name (e.g. cx16,popcnt).", AllowMultipleArgumentsPerToken = true };
    private readonly Option<string[]> _exitOn = new("--exit-on-output") { Description = "Stop with exit code 0 once the console prints this text (repeatable)." };
    private readonly Option<int?> _timeout = new("--timeout") { Description = "Stop with exit code 124 after this many seconds." };
    private readonly Option<bool> _noHostCompat = new("--no-host-compat") { Description = "On software (kvm_pvm) KVM hosts, do not add the kernel arguments that avoid instructions it cannot emulate." };
    private readonly Option<string> _gpu = new("--gpu") { Description = "virtio-gpu: width=W,height=H,edid=on|off,scanouts=N; blob=on,contexts=on,hostmem=SIZE for blobs, the host-visible region and cross-domain; winsrv=on (with edid=off) for the 2018 queues; max-host-memory=SIZE (default 256M) caps what the guest makes the host hold; or off.", DefaultValueFactory = _ => "" };
    private readonly Option<string> _display = new("--display") { Description = "Show the scanout: wayland (a window on the host compositor), none (headless), or auto (wayland when a compositor socket exists).", DefaultValueFactory = _ => "auto" };
    private readonly Option<string[]> _waylandSocket = new("--wayland-socket") { Description = "A host compositor socket: PATH[,name=NAME], repeatable. The unnamed one (default $XDG_RUNTIME_DIR/$WAYLAND_DISPLAY) serves the window and Wayland channel 1; named ones get channels 20, 21, ... 31 in order." };
    private readonly Option<string?> _screenshot = new("--screenshot-on-exit") { Description = "Write the scanout to this PNG file when the machine stops (SIGUSR1 or Ctrl-A s writes one at any time)." };
    private readonly Option<string?> _gdb = new("--gdb") { Description = "Serve gdb's remote protocol on [HOST:]PORT (localhost by default; like QEMU's -gdb tcp::PORT, crosvm's --gdb PORT): `target remote :PORT` in gdb with the kernel's vmlinux." };
    private readonly Option<bool> _gdbWait = new("--gdb-wait") { Description = "With --gdb: stop before the first guest instruction until gdb continues (like QEMU's -S)." };
    private readonly Option<string[]> _share = new("--share") { Description = "Share a host directory over virtio-9p: HOSTDIR[,tag=NAME][,ro], repeatable (QEMU -virtfs, crosvm --shared-dir, vng --rwdir/--rodir). /init mounts it at /mnt/NAME; NAME defaults to the directory's name." };
    private readonly Option<string?> _rootShare = new("--root-share") { Description = "Boot with this host directory as the guest's read-only root over 9p (root=minivmm-root rootfstype=9p), no initramfs: host tools run in the guest as they are (vng's default root)." };
    private readonly Option<string> _input = new("--input") { Description = "virtio-input keyboard and tablet fed from the scanout window: on, off, or auto (on when there is a window). QEMU: -device virtio-keyboard-pci -device virtio-tablet-pci; crosvm: --input.", DefaultValueFactory = _ => "auto" };
    private readonly Option<bool> _verbose = new("--verbose", "-v") { Description = "Say why the machine stopped even when it stopped cleanly, and list the compositor sockets." };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _kernel, _initrd, _append, _memory, _cpus, _serial, _gpu, _display, _waylandSocket, _screenshot, _trace, _cpuidHide, _exitOn, _timeout, _noHostCompat, _share, _rootShare, _input, _gdb, _gdbWait, _verbose })
            command.Options.Add(option);
    }

    public bool Verbose(ParseResult result) => result.GetValue(_verbose);

    public LinuxMachineOptions Bind(ParseResult result)
    {
        string memoryText = result.GetValue(_memory)!;
        if (!SizeParser.TryParse(memoryText, SizeParser.MiB, out ulong memory))
            throw new UsageException($"--memory '{memoryText}' is not a size (MiB as a bare number, or with K, M, G: 1024, 512M, 2G)");
        if (memory < MemoryLayout.MinimumRam)
            throw new UsageException($"--memory {memoryText} is too small: MiniVmm needs at least {SizeParser.Format(MemoryLayout.MinimumRam)}");
        if (memory > MemoryLayout.MaximumRam || memory % 4096 != 0)
            throw new UsageException($"--memory {memoryText} must be a multiple of 4K and at most {SizeParser.Format(MemoryLayout.MaximumRam)}");

        int cpus = result.GetValue(_cpus);
        if (cpus is < 1 or > 64)
            throw new UsageException($"--cpus {cpus} is out of range: give 1 to 64");

        int? timeout = result.GetValue(_timeout);
        if (timeout is <= 0)
            throw new UsageException($"--timeout {timeout} must be a positive number of seconds");

        SerialTarget serial;
        try
        {
            serial = SerialTarget.Parse(result.GetValue(_serial)!);
        }
        catch (FormatException error)
        {
            throw new UsageException(error.Message);
        }
        TraceCategories trace;
        try
        {
            trace = Tracer.Parse(result.GetValue(_trace) ?? []);
        }
        catch (ArgumentException error)
        {
            throw new UsageException($"--trace: {error.Message}");
        }
        var cpuidHide = (result.GetValue(_cpuidHide) ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
        foreach (var name in cpuidHide)
        {
            if (!MiniVmm.Machine.Cpu.CpuidFeature.TryFind(name, out _))
                throw new UsageException($"--cpuid-hide: unknown feature '{name}'");
        }

        GpuOptions? gpu = ParseGpu(result.GetValue(_gpu)!);
        string? screenshot = result.GetValue(_screenshot);
        if (screenshot is not null && gpu is null)
            throw new UsageException("--screenshot-on-exit needs the GPU (drop --gpu off)");
        var sockets = ParseSockets(result.GetValue(_waylandSocket) ?? []);
        var display = gpu is null ? DisplayChoice.None : DisplayChoice.Parse(result.GetValue(_display)!, sockets.DefaultPath);
        // Cross-domain contexts and winsrv connect the guest's Wayland clients to these compositors, by channel.
        if (gpu is not null)
            gpu = gpu with { WaylandSockets = sockets };

        string? gdbAddress = result.GetValue(_gdb);
        bool gdbWait = result.GetValue(_gdbWait);
        if (gdbWait && gdbAddress is null)
            throw new UsageException("--gdb-wait needs --gdb [HOST:]PORT");
        var gdbEndpoint = gdbAddress is null ? null : ParseGdbEndpoint(gdbAddress);

        var (shares, rootShare) = ParseShares(result.GetValue(_share) ?? [], result.GetValue(_rootShare));
        if (rootShare is not null && result.GetValue(_initrd) is not null)
            throw new UsageException("--root-share boots without an initramfs: drop --initrd (the kernel runs /init from the shared root, or init=)");
        var kernel = LoadKernel(result.GetValue(_kernel)!);
        byte[] initrd = LoadInitrd(result.GetValue(_initrd));
        string kvmDevice = Environment.GetEnvironmentVariable("MINIVMM_KVM") is { Length: > 0 } device ? device : KvmSystem.DevicePath;
        CheckKvm(kvmDevice);
        // Bound last, once nothing else can fail: the listener belongs to the machine from here on.
        var gdb = gdbEndpoint is null ? null : ListenForGdb(gdbEndpoint, gdbWait);

        return new LinuxMachineOptions
        {
            Kernel = kernel,
            Initrd = initrd,
            ExtraCommandLine = result.GetValue(_append) ?? "",
            MemorySize = memory,
            Cpus = cpus,
            Serial = serial,
            Tracer = new Tracer(trace, Console.Error),
            CpuidHide = cpuidHide,
            ExitOnOutput = result.GetValue(_exitOn) ?? [],
            Timeout = timeout is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
            HostCompatibility = !result.GetValue(_noHostCompat) && KvmSystem.IsPvmHost,
            KvmDevice = kvmDevice,
            Gpu = gpu,
            Display = display.Open(),
            ScreenshotOnExit = screenshot,
            Shares = shares,
            InputDevices = ParseInput(result.GetValue(_input)!, display.Kind != DisplayChoice.None.Kind),
            RootShare = rootShare,
            Gdb = gdb,
        };
    }

    private static System.Net.IPEndPoint ParseGdbEndpoint(string text)
    {
        try
        {
            return GdbServer.ParseEndpoint(text);
        }
        catch (FormatException error)
        {
            throw new UsageException(error.Message);
        }
    }

    private static GdbServer ListenForGdb(System.Net.IPEndPoint endpoint, bool wait)
    {
        try
        {
            return GdbServer.Listen(endpoint, wait);
        }
        catch (System.Net.Sockets.SocketException error)
        {
            throw new UsageException($"--gdb {endpoint}: cannot listen there ({error.Message})");
        }
    }

    private static bool ParseInput(string text, bool window) => text switch
    {
        "on" => true,
        "off" => false,
        "auto" => window,
        _ => throw new UsageException($"--input '{text}' is not one of on, off, auto"),
    };

    private static (IReadOnlyList<ShareOptions> Shares, ShareOptions? Root) ParseShares(string[] values, string? rootValue)
    {
        var shares = new List<ShareOptions>();
        foreach (var value in values)
        {
            if (!ShareOptions.TryParse(value, out var share, out string? error))
                throw new UsageException($"--share {value}: {error}");
            if (share!.Tag == ShareOptions.RootTag || shares.Any(other => other.Tag == share.Tag))
                throw new UsageException($"--share {value}: tag '{share.Tag}' is taken (give tag=NAME)");
            shares.Add(share);
        }
        ShareOptions? root = null;
        if (rootValue is not null)
        {
            if (!ShareOptions.TryParse($"{rootValue},tag={ShareOptions.RootTag},ro", out root, out string? error))
                throw new UsageException($"--root-share {rootValue}: {error}");
        }
        return (shares, root);
    }

    private static GpuOptions? ParseGpu(string text)
    {
        if (text == "off")
            return null;
        if (text.Length == 0)
            return new GpuOptions();
        return GpuOptions.TryParse(text, out var options, out string? error) ? options : throw new UsageException($"--gpu: {error}");
    }

    private static CompositorSockets ParseSockets(string[] values) =>
        CompositorSockets.TryParse(values, DisplayChoice.DefaultSocket, out var sockets, out string? error)
            ? sockets
            : throw new UsageException($"--wayland-socket {error}");

    private static KernelImage LoadKernel(string path)
    {
        byte[] bytes = ReadUserFile(path, "kernel");
        try
        {
            return KernelImage.Parse(bytes, Path.GetFileName(path));
        }
        catch (BootException error)
        {
            throw new UsageException(error.Message);
        }
    }

    private static byte[] LoadInitrd(string? path)
    {
        if (path is null)
            return [];
        byte[] bytes = ReadUserFile(path, "initrd");
        if (bytes.Length == 0)
            throw new UsageException($"initrd {path} is empty (0 bytes): give a cpio archive or leave out --initrd");
        return bytes;
    }

    private static byte[] ReadUserFile(string path, string what)
    {
        try
        {
            if (Directory.Exists(path))
                throw new UsageException($"{what} {path} is a directory, not a file");
            return File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            throw new UsageException($"{what} {path} not found");
        }
        catch (DirectoryNotFoundException)
        {
            throw new UsageException($"{what} {path} not found");
        }
        catch (UnauthorizedAccessException)
        {
            throw new UsageException($"{what} {path} is not readable (permission denied)");
        }
        catch (IOException error)
        {
            throw new UsageException($"{what} {path} could not be read: {error.Message}");
        }
    }

    private static void CheckKvm(string device)
    {
        if (!File.Exists(device))
            throw new UsageException($"{device} not found: this host has no KVM (load kvm_intel or kvm_amd, or enable nested virtualization)");
        try
        {
            KvmSystem.Open(device).Dispose();
        }
        catch (KvmException error) when (error.Errno == KvmException.EACCES)
        {
            throw new UsageException($"{device}: permission denied (add yourself to the 'kvm' group or run as root)");
        }
        catch (KvmException error)
        {
            throw new UsageException($"{device} is not a usable KVM device: {error.Message}");
        }
        catch (InvalidOperationException error)
        {
            throw new UsageException(error.Message);
        }
    }
}
