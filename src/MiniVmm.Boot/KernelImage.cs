namespace MiniVmm.Boot;

public enum KernelFormat
{
    /// <summary>A bzImage (vmlinuz): real-mode setup + compressed vmlinux, unpacked on the host.</summary>
    BzImage,

    /// <summary>An uncompressed ELF64 vmlinux.</summary>
    Elf,
}

/// <summary>
/// A parsed kernel file. Whatever the input, the result is an ELF vmlinux to load at its physical
/// addresses and enter at startup_64: a bzImage's payload is decompressed here rather than by the
/// guest (see host-kvm.md, "Decompression is interpreted too"). Parsing arbitrary bytes throws only
/// <see cref="BootException"/>.
/// </summary>
public sealed partial class KernelImage
{
    private KernelImage(string name, KernelFormat format, string compression, ElfImage elf,
        SetupHeader? header, ReadOnlyMemory<byte> setupHeaderBytes, string? kernelVersion)
    {
        Name = name;
        Format = format;
        Compression = compression;
        Elf = elf;
        Header = header;
        SetupHeaderBytes = setupHeaderBytes;
        KernelVersion = kernelVersion;
    }

    /// <summary>Name used in messages (the file name).</summary>
    public string Name { get; }

    public KernelFormat Format { get; }

    /// <summary>"xz", "gzip", "zstd", "lz4" or "none" (an ELF file, or CONFIG_KERNEL_UNCOMPRESSED).</summary>
    public string Compression { get; }

    /// <summary>The vmlinux to load.</summary>
    public ElfImage Elf { get; }

    public ReadOnlyMemory<byte> Vmlinux => Elf.Bytes;

    /// <summary>Guest-physical entry (startup_64).</summary>
    public ulong Entry => Elf.Entry;

    /// <summary>The bzImage's setup header as found in the file; null for an ELF.</summary>
    public SetupHeader? Header { get; }

    /// <summary>
    /// The raw setup header, file bytes [0x1F1, 0x202 + byte at 0x201), clipped at 0x290: what the
    /// boot protocol says to copy into boot_params at the same offset. Empty for an ELF.
    /// </summary>
    public ReadOnlyMemory<byte> SetupHeaderBytes { get; }

    /// <summary>Boot protocol version, e.g. 0x020F for 2.15; 0 for an ELF (no header).</summary>
    public ushort BootProtocolVersion => Header?.Version ?? 0;

    /// <summary>The kernel's version string from the setup area ("6.1.0-56-amd64 ..."), when present.</summary>
    public string? KernelVersion { get; }

    /// <summary>Longest command line the kernel accepts, without the NUL (cmdline_size; 2047 for an ELF).</summary>
    public int CommandLineMax => (int)Math.Min(Header?.CmdlineSize ?? uint.MaxValue, BootLayout.CommandLineMax - 1);

    /// <summary>Highest address an initrd byte may occupy (initrd_addr_max; 0x7FFFFFFF for an ELF).</summary>
    public ulong InitrdAddressMax => Header?.InitrdAddrMax ?? 0x7FFF_FFFF;

    /// <summary>Reads and parses a kernel file; I/O errors become <see cref="BootException"/> too.</summary>
    public static KernelImage Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new BootException($"cannot read kernel {path}: {e.Message}", e);
        }
        return Parse(bytes, Path.GetFileName(path));
    }

    public static KernelImage Parse(ReadOnlyMemory<byte> bytes, string name = "kernel")
    {
        var data = bytes.Span;
        if (data.IsEmpty)
            throw new BootException($"{name} is empty (0 bytes), not a Linux kernel");
        if (BzImageParser.HasSetupHeader(data))
            return BzImageParser.Parse(bytes, name);
        if (ElfImage.HasElfMagic(data))
            return new KernelImage(name, KernelFormat.Elf, "none", ElfImage.Parse(bytes, name), null, ReadOnlyMemory<byte>.Empty, null);
        if (data is [(byte)'M', (byte)'Z', ..] && data.Length < BzImageParser.MinimumHeaderEnd)
            throw new BootException($"{name} is truncated ({data.Length} bytes): too short to hold a bzImage setup header");
        throw new BootException($"{name} is not a Linux kernel: no bzImage header (HdrS) and no ELF magic");
    }

    internal static KernelImage FromBzImage(string name, string compression, ElfImage elf, SetupHeader header,
        ReadOnlyMemory<byte> headerBytes, string? kernelVersion) =>
        new(name, KernelFormat.BzImage, compression, elf, header, headerBytes, kernelVersion);
}
