using System.Buffers.Binary;

namespace MiniVmm.Boot.Compression;

/// <summary>
/// Unpacks a bzImage's compressed vmlinux on the host. The guest could run the kernel's own
/// decompressor, but under an emulating /dev/kvm it unpacks at ~70 KB/s; here it takes well under
/// a second. The compressor is recognised by magic, as the kernel's own decompressor does.
/// </summary>
internal static class PayloadDecompressor
{
    /// <summary>Upper bound on an unpacked vmlinux: Debian's is ~63 MiB; a bigger result is a bomb or junk.</summary>
    public const int MaxOutput = 512 << 20;

    public static (string Compression, byte[] Output) Decompress(ReadOnlyMemory<byte> payload, string kernelName)
    {
        var bytes = payload.Span;
        string compression = Identify(bytes);
        switch (compression)
        {
            case "lzma" or "bzip2" or "lzo":
                throw new BootException($"{kernelName} uses {compression} compression, which MiniVmm cannot unpack; build the kernel with CONFIG_KERNEL_XZ, _GZIP, _ZSTD or _LZ4");
            case "unknown":
                throw new BootException($"{kernelName} has a payload in an unknown compression format (first bytes {Convert.ToHexString(bytes[..Math.Min(6, bytes.Length)])})");
            case "none":
                return (compression, bytes.ToArray());
        }

        int hint = CapacityHint(bytes);
        try
        {
            byte[] output = compression switch
            {
                "gzip" => StreamDecoders.Gzip(payload, hint, MaxOutput),
                "xz" => XzDecoder.Decode(payload, MaxOutput),
                "zstd" => StreamDecoders.Zstd(payload, hint, MaxOutput),
                _ => StreamDecoders.Lz4Legacy(payload, hint, MaxOutput),
            };
            return (compression, output);
        }
        catch (Exception e) when (e is not BootException)
        {
            // Decoders throw their own types (InvalidDataException, ZstdException, LZ4 or zlib errors,
            // even IndexOutOfRange on hostile input): all of it means "corrupt".
            throw new BootException($"{kernelName} has a corrupt {compression} payload: {FirstLine(e.Message)}", e);
        }
    }

    /// <summary>Names the format from the payload's magic bytes.</summary>
    public static string Identify(ReadOnlySpan<byte> payload) => payload switch
    {
        [0x1F, 0x8B, ..] => "gzip",
        [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, ..] => "xz",
        [0x28, 0xB5, 0x2F, 0xFD, ..] => "zstd",
        [0x02, 0x21, 0x4C, 0x18, ..] => "lz4",
        [0x5D, 0x00, 0x00, ..] => "lzma",
        [0x42, 0x5A, 0x68, ..] => "bzip2",
        [0x89, 0x4C, 0x5A, 0x4F, 0x00, 0x0D, 0x0A, 0x1A, 0x0A, ..] => "lzo",
        [0x7F, 0x45, 0x4C, 0x46, ..] => "none", // CONFIG_KERNEL_UNCOMPRESSED
        _ => "unknown",
    };

    /// <summary>
    /// The kernel appends the uncompressed size as le32; use it to size the output buffer when it is
    /// plausible (a real ratio is below 64:1), never as a fact: the decoders find the real end.
    /// </summary>
    private static int CapacityHint(ReadOnlySpan<byte> payload)
    {
        long fallback = Math.Min((long)payload.Length * 4, MaxOutput);
        if (payload.Length < 8)
            return (int)fallback;
        uint stated = BinaryPrimitives.ReadUInt32LittleEndian(payload[^4..]);
        return stated <= MaxOutput && stated <= (long)payload.Length * 64 ? (int)stated : (int)fallback;
    }

    private static string FirstLine(string message)
    {
        int newline = message.IndexOfAny(['\r', '\n']);
        return newline < 0 ? message : message[..newline];
    }
}
