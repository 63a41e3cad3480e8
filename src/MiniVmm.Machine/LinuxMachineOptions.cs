using MiniVmm.Boot;
using MiniVmm.Gpu;
using MiniVmm.NineP;

namespace MiniVmm.Machine;

/// <summary>Where COM1's output goes.</summary>
public sealed record SerialTarget(SerialTargetKind Kind, string? Path = null)
{
    public static SerialTarget Stdio { get; } = new(SerialTargetKind.Stdio);

    /// <summary>Parses the CLI's stdio | file:PATH | none; throws ArgumentException-free UsageError text via FormatException.</summary>
    public static SerialTarget Parse(string text) => text switch
    {
        "stdio" => Stdio,
        "none" => new SerialTarget(SerialTargetKind.None),
        _ when text.StartsWith("file:", StringComparison.Ordinal) && text.Length > 5 => new SerialTarget(SerialTargetKind.File, text[5..]),
        _ => throw new FormatException($"--serial '{text}' is not one of stdio, file:PATH, none"),
    };
}

public enum SerialTargetKind { Stdio, File, None }

/// <summary>Everything needed to boot one Linux guest. The CLI validates user input into this.</summary>
public sealed class LinuxMachineOptions
{
    public required KernelImage Kernel { get; init; }
    public byte[] Initrd { get; init; } = [];
    /// <summary>Arguments the user added after MiniVmm's defaults.</summary>
    public string ExtraCommandLine { get; init; } = "";
    public ulong MemorySize { get; init; } = 512UL << 20;
    public int Cpus { get; init; } = 1;
    public SerialTarget Serial { get; init; } = SerialTarget.Stdio;
    public Tracer Tracer { get; init; } = Tracer.Disabled;
    public IReadOnlyList<string> CpuidHide { get; init; } = [];
    public IReadOnlyList<string> ExitOnOutput { get; init; } = [];
    public TimeSpan? Timeout { get; init; }
    /// <summary>Add the kernel arguments that keep a guest clear of instructions a software KVM cannot emulate.</summary>
    public bool HostCompatibility { get; init; }
    /// <summary>The KVM device node (MINIVMM_KVM overrides /dev/kvm, e.g. for a nested setup's device).</summary>
    public string KvmDevice { get; init; } = Kvm.KvmSystem.DevicePath;
    /// <summary>The virtio-gpu device's options; null leaves the machine without a GPU.</summary>
    public GpuOptions? Gpu { get; init; } = new();
    /// <summary>Host directories shared over virtio-9p (--share), one PCI device each; /init mounts them at /mnt/TAG.</summary>
    public IReadOnlyList<ShareOptions> Shares { get; init; } = [];
    /// <summary>The host directory booted as the guest's read-only root over 9p (--root-share); null boots the initramfs.</summary>
    public ShareOptions? RootShare { get; init; }
    /// <summary>A virtio-input keyboard and tablet for the guest (--input; on by default when there is a window).</summary>
    public bool InputDevices { get; init; }
    /// <summary>Where the scanout is shown; null runs headless.</summary>
    public IDisplay? Display { get; init; }
    /// <summary>Write the scanout as PNG here when the machine stops.</summary>
    public string? ScreenshotOnExit { get; init; }
    /// <summary>--gdb: a bound gdb stub listener; the machine starts it before the vCPUs run and disposes it when it stops.</summary>
    public Debug.GdbServer? Gdb { get; init; }
    /// <summary>Console input; null means the process's stdin.</summary>
    public Stream? Input { get; init; }
    /// <summary>Console output for <see cref="SerialTargetKind.Stdio"/>; null means the process's stdout.</summary>
    public Stream? Output { get; init; }
}
