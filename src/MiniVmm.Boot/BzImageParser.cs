using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using MiniVmm.Boot.Compression;

namespace MiniVmm.Boot;

/// <summary>
/// Reads a bzImage per Documentation/x86/boot.rst: the setup header at 0x1F1, the protected-mode
/// part at (setup_sects + 1) × 512, and the compressed vmlinux at payload_offset inside it.
/// Every offset from the file is checked against the file length with 64-bit arithmetic first.
/// </summary>
internal static class BzImageParser
{
    private const int HeaderMagicOffset = 0x202;
    private const int BootFlagOffset = 0x1FE;

    /// <summary>Header must reach init_size (0x260..0x264), which protocol 2.10+ guarantees.</summary>
    public const int MinimumHeaderEnd = 0x264;

    /// <summary>boot_params holds the header up to 0x290; anything a future header adds beyond is not copied.</summary>
    private const int MaximumHeaderEnd = 0x290;

    private const ushort MinimumProtocol = 0x020C;

    public static bool HasSetupHeader(ReadOnlySpan<byte> data) =>
        data.Length >= HeaderMagicOffset + 4
        && BinaryPrimitives.ReadUInt32LittleEndian(data[HeaderMagicOffset..]) == SetupHeader.HeaderMagic;

    public static KernelImage Parse(ReadOnlyMemory<byte> bytes, string name)
    {
        var data = bytes.Span;
        ushort bootFlag = BinaryPrimitives.ReadUInt16LittleEndian(data[BootFlagOffset..]);
        if (bootFlag != SetupHeader.BootFlagMagic)
            throw new BootException($"{name} is not a Linux kernel: it has a HdrS header but boot_flag is 0x{bootFlag:x4}, not 0xaa55");

        // The jump at 0x200 skips the header: its target (0x202 + byte at 0x201) is where the header ends.
        int headerEnd = HeaderMagicOffset + data[0x201];
        if (headerEnd < MinimumHeaderEnd)
            throw new BootException($"{name} has a setup header that ends at 0x{headerEnd:x}, too early for boot protocol 2.12");
        if (data.Length < Math.Min(headerEnd, MaximumHeaderEnd))
            throw new BootException($"{name} is truncated ({data.Length} bytes): its setup header runs to 0x{headerEnd:x}");
        var headerBytes = bytes[(int)SetupHeader.Offset..Math.Min(headerEnd, MaximumHeaderEnd)];

        var header = default(SetupHeader);
        var headerView = MemoryMarshal.AsBytes(new Span<SetupHeader>(ref header));
        headerBytes.Span[..Math.Min(headerBytes.Length, headerView.Length)].CopyTo(headerView);

        if (header.Version < MinimumProtocol)
            throw new BootException($"{name} uses boot protocol {header.Version >> 8}.{header.Version & 0xFF:d2}; MiniVmm needs 2.12 or later (64-bit entry)");
        if ((header.XLoadFlags & SetupHeader.XlfKernel64) == 0)
            throw new BootException($"{name} is a 32-bit-only kernel (XLF_KERNEL_64 is not set in xloadflags); MiniVmm boots x86-64 kernels");

        int setupSects = header.SetupSects == 0 ? 4 : header.SetupSects;
        ulong protectedModeStart = (ulong)(setupSects + 1) * 512;
        ulong payloadStart = protectedModeStart + header.PayloadOffset;
        ulong fileLength = (ulong)data.Length;
        if (header.PayloadLength == 0 || payloadStart > fileLength || header.PayloadLength > fileLength - payloadStart)
            throw new BootException($"{name} is truncated or damaged: its payload [0x{payloadStart:x}, +0x{header.PayloadLength:x}) is not inside the file (0x{fileLength:x} bytes)");

        var payload = bytes.Slice((int)payloadStart, (int)header.PayloadLength);
        var (compression, vmlinux) = PayloadDecompressor.Decompress(payload, name);
        if (!ElfImage.HasElfMagic(vmlinux))
            throw new BootException($"{name}'s {compression} payload unpacked to {vmlinux.Length} bytes that are not an ELF vmlinux");
        var elf = ElfImage.Parse(vmlinux, $"{name} (unpacked vmlinux)");
        return KernelImage.FromBzImage(name, compression, elf, header, headerBytes, ReadKernelVersion(data, header, protectedModeStart));
    }

    /// <summary>kernel_version points (minus 0x200) at a NUL-terminated string inside the setup code.</summary>
    private static string? ReadKernelVersion(ReadOnlySpan<byte> data, SetupHeader header, ulong setupEnd)
    {
        if (header.KernelVersion == 0)
            return null;
        ulong start = header.KernelVersion + 0x200UL;
        if (start >= setupEnd || start >= (ulong)data.Length)
            return null;
        var tail = data[(int)start..(int)Math.Min(setupEnd, (ulong)data.Length)];
        int end = tail.IndexOf((byte)0);
        var text = tail[..(end < 0 ? Math.Min(tail.Length, 256) : Math.Min(end, 256))];
        return text.ContainsAnyExceptInRange((byte)0x20, (byte)0x7E) ? null : Encoding.ASCII.GetString(text);
    }
}
