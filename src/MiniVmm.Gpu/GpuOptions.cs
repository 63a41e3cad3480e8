using System.Globalization;
using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Memory;

namespace MiniVmm.Gpu;

/// <summary>
/// virtio-gpu settings. <see cref="Parse"/> reads the CLI form
/// "width=1024,height=768,edid=on,scanouts=1,blob=on,contexts=on,hostmem=256M".
/// Width and height are capped at 4095 because EDID's detailed timing descriptor has 12-bit fields.
/// </summary>
public sealed record GpuOptions
{
    public const int MinDimension = 16;
    public const int MaxDimension = 4095;

    public int Width { get; init; } = 1024;
    public int Height { get; init; } = 768;

    /// <summary>Offer VIRTIO_GPU_F_EDID and answer GET_EDID.</summary>
    public bool Edid { get; init; } = true;

    /// <summary>num_scanouts in the config space (1..16); scanout 0 is the one reported enabled.</summary>
    public int Scanouts { get; init; } = 1;

    /// <summary>
    /// The host budget (<c>max-host-memory=SIZE</c>): everything a guest makes the device hold, at real cost (pixels,
    /// blob pages, backing entries, a minimum per object, the window's copies of each scanout); a command that would
    /// pass it answers ERR_OUT_OF_MEMORY. Object counts are capped besides (Backend/HostBudget.cs).
    /// </summary>
    public long MaxHostMemoryBytes { get; init; } = 256L << 20;

    /// <summary>Offer VIRTIO_GPU_F_RESOURCE_BLOB and VIRTIO_GPU_F_RESOURCE_UUID: blob resources and ASSIGN_UUID.</summary>
    public bool Blob { get; init; }

    /// <summary>
    /// Offer VIRTIO_GPU_F_VIRGL and VIRTIO_GPU_F_CONTEXT_INIT with one capset (cross-domain). Linux 6.1 creates no
    /// context at all without VIRGL, so it is offered even though there is no virgl renderer.
    /// </summary>
    public bool Contexts { get; init; }

    /// <summary>
    /// Length of the host-visible region (the shared-memory BAR), 0 for none. A power of two, at least a page,
    /// because a PCI BAR is; needs <see cref="Blob"/>, since only blobs are mapped there.
    /// </summary>
    public ulong HostMemoryBytes { get; init; }

    /// <summary>Offer the winsrv front door (docs/winsrv.md): its feature bit and two more queues. Off by default.</summary>
    public bool Winsrv { get; init; }

    /// <summary>winsrv's UNCONFIRMED numbers; a <c>with</c> copy moves the feature bit, commands or queues.</summary>
    public WinsrvNumbers WinsrvNumbers { get; init; } = WinsrvNumbers.Reconstructed;

    /// <summary>
    /// The compositor sockets cross-domain INIT and winsrv CONNECT reach, by channel (the unnamed one is usually
    /// $XDG_RUNTIME_DIR/$WAYLAND_DISPLAY). Set by the CLI, not parsed from --gpu text. An unconfigured channel fails
    /// INIT/CONNECT cleanly: the context only ever answers hang-ups, so the guest proxy gives up.
    /// </summary>
    public CompositorSockets WaylandSockets { get; init; } = CompositorSockets.None;

    /// <summary>--trace xdomain: a line per cross-domain command and RECEIVE/READ, with the Wayland messages decoded. Not parsed.</summary>
    public Action<string>? CrossDomainTrace { get; init; }

    /// <summary>--trace winsrv: a line per CONNECT/DISCONNECT/TX/RX, with the Wayland messages decoded. Not parsed.</summary>
    public Action<string>? WinsrvTrace { get; init; }

    /// <summary>Largest host-visible region accepted (64 GiB): the BAR has to fit below the guest's physical address bits.</summary>
    public const ulong MaxHostMemoryRegion = 1UL << 36;

    /// <summary>Why these options are unusable, or null when they are fine.</summary>
    public string? Check()
    {
        if (Width is < MinDimension or > MaxDimension)
            return $"gpu width {Width} is out of range ({MinDimension}..{MaxDimension})";
        if (Height is < MinDimension or > MaxDimension)
            return $"gpu height {Height} is out of range ({MinDimension}..{MaxDimension})";
        if (Scanouts is < 1 or > VirtioGpuConstants.VIRTIO_GPU_MAX_SCANOUTS)
            return $"gpu scanouts {Scanouts} is out of range (1..{VirtioGpuConstants.VIRTIO_GPU_MAX_SCANOUTS})";
        if (MaxHostMemoryBytes <= 0)
            return "gpu host memory cap must be positive";
        if (HostMemoryBytes != 0 && (HostMemoryBytes < 4096 || !ulong.IsPow2(HostMemoryBytes) || HostMemoryBytes > MaxHostMemoryRegion))
            return $"gpu hostmem {HostMemoryBytes} must be 0 or a power of two from 4K to {MaxHostMemoryRegion >> 30}G";
        if (HostMemoryBytes != 0 && !Blob)
            return "gpu hostmem needs blob=on (only blob resources are mapped there)";
        return Winsrv ? MiniVmm.Gpu.Winsrv.WinsrvOptions.Check(this) : null;
    }

    /// <summary>Parses "key=value" pairs separated by commas; an empty string gives the defaults.</summary>
    public static bool TryParse(string text, out GpuOptions options, out string? error)
    {
        var result = new GpuOptions();
        options = result;
        error = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                error = $"gpu option '{part}' is not of the form key=value";
                return false;
            }
            string key = part[..equals].Trim().ToLowerInvariant();
            string value = part[(equals + 1)..].Trim();
            if (!seen.Add(key))
            {
                error = $"gpu option '{key}' is given twice";
                return false;
            }
            int number = 0;
            bool flag = false;
            ulong size = 0;
            error = key switch
            {
                "width" or "height" or "scanouts" => ParseInt(key, value, out number),
                "edid" or "blob" or "contexts" or "winsrv" => ParseSwitch(key, value, out flag),
                "hostmem" or "max-host-memory" => ParseSize(key, value, out size),
                _ => $"gpu option '{key}' is unknown (expected width, height, edid, scanouts, blob, contexts, hostmem, max-host-memory, winsrv)",
            };
            if (error is not null)
                return false;
            result = key switch
            {
                "width" => result with { Width = number },
                "height" => result with { Height = number },
                "scanouts" => result with { Scanouts = number },
                "blob" => result with { Blob = flag },
                "contexts" => result with { Contexts = flag },
                "hostmem" => result with { HostMemoryBytes = size },
                "max-host-memory" => result with { MaxHostMemoryBytes = size > long.MaxValue ? long.MaxValue : (long)size },
                "winsrv" => result with { Winsrv = flag },
                _ => result with { Edid = flag },
            };
        }
        error = result.Check();
        options = result;
        return error is null;
    }

    public static GpuOptions Parse(string text) =>
        TryParse(text, out var options, out string? error) ? options : throw new FormatException(error);

    private static string? ParseInt(string key, string value, out int parsed) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out parsed)
            ? null
            : $"gpu option {key}='{value}' is not a decimal number";

    /// <summary>A byte count, or a size with K, M, G or T (the CLI's one <see cref="SizeParser"/>).</summary>
    private static string? ParseSize(string key, string value, out ulong parsed) =>
        SizeParser.TryParse(value, SizeParser.Bytes, out parsed)
            ? null
            : $"gpu option {key}='{value}' is not a size (bytes, or a number with K, M, G or T)";

    private static string? ParseSwitch(string key, string value, out bool parsed)
    {
        parsed = false;
        switch (value.ToLowerInvariant())
        {
            case "on" or "true" or "1" or "yes":
                parsed = true;
                return null;
            case "off" or "false" or "0" or "no":
                return null;
            default:
                return $"gpu option {key}='{value}' must be on or off";
        }
    }
}
