namespace MiniVmm.Machine;

/// <summary>What --trace prints to stderr. Names are the CLI's words.</summary>
[Flags]
public enum TraceCategories
{
    None = 0,
    /// <summary>Every KVM exit and how it was handled.</summary>
    Exits = 1 << 0,
    /// <summary>Port I/O accesses with port, size and value.</summary>
    Pio = 1 << 1,
    /// <summary>MMIO accesses with address, size and value.</summary>
    Mmio = 1 << 2,
    /// <summary>Instructions the VMM completed because the host KVM could not.</summary>
    Emulation = 1 << 3,
    /// <summary>Boot layout: where the kernel, initrd, zero page and tables went.</summary>
    Boot = 1 << 4,
    /// <summary>Every virtio-gpu command with its decoded fields and the response.</summary>
    Gpu = 1 << 5,
    /// <summary>Cross-domain commands (INIT/POLL/SEND/RECEIVE/READ/WRITE) and the Wayland messages they carry.</summary>
    Xdomain = 1 << 6,
    /// <summary>winsrv CONNECT/DISCONNECT/TX/RX and the Wayland messages they carry.</summary>
    Winsrv = 1 << 7,
    /// <summary>Every 9P request of the virtio-9p shares and the reply's type.</summary>
    NineP = 1 << 8,
}

/// <summary>A thread-safe sink for trace lines (stderr by default) that is a no-op for disabled categories.</summary>
public sealed class Tracer(TraceCategories enabled, TextWriter output)
{
    private readonly Lock _writeLock = new();

    public static Tracer Disabled { get; } = new(TraceCategories.None, TextWriter.Null);

    public TraceCategories Enabled { get; } = enabled;

    public bool IsEnabled(TraceCategories category) => (Enabled & category) != 0;

    public void Write(TraceCategories category, string line)
    {
        if (!IsEnabled(category))
            return;
        lock (_writeLock)
            output.WriteLine($"[trace {category.ToString().ToLowerInvariant()}] {line}");
    }

    /// <summary>Parses "exits,pio" style lists; throws ArgumentException naming a bad entry.</summary>
    public static TraceCategories Parse(IEnumerable<string> names)
    {
        var result = TraceCategories.None;
        foreach (var name in names.SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (name == "all")
                result |= TraceCategories.Exits | TraceCategories.Pio | TraceCategories.Mmio | TraceCategories.Emulation | TraceCategories.Boot | TraceCategories.Gpu
                    | TraceCategories.Xdomain | TraceCategories.Winsrv | TraceCategories.NineP;
            else if (Enum.TryParse<TraceCategories>(name, ignoreCase: true, out var category) && category != TraceCategories.None && !int.TryParse(name, out _))
                result |= category;
            else
                throw new ArgumentException($"unknown trace category '{name}' (known: exits, pio, mmio, emulation, boot, gpu, xdomain, winsrv, ninep, all)");
        }
        return result;
    }
}
