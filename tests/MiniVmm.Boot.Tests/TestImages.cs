using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using K4os.Compression.LZ4;

namespace MiniVmm.Boot.Tests;

/// <summary>A PT_LOAD segment for <see cref="TestImages.Elf"/>.</summary>
internal sealed record TestSegment(ulong PhysicalAddress, byte[] Data, ulong MemorySize, ulong VirtualAddress = 0);

/// <summary>
/// Builds kernels in memory: ELF64 vmlinux files and bzImage files whose payload is a real gzip, xz,
/// zstd or LZ4-legacy stream of such an ELF, laid out as the kernel build does (payload followed by
/// the le32 uncompressed size). This proves each decompressor without any file outside the test.
/// </summary>
internal static class TestImages
{
    public const ulong KernelBase = 0x100_0000;
    public const int SetupSects = 4;
    public const int ProtectedModeStart = (SetupSects + 1) * 512;   // 0xA00
    public const int PayloadOffset = 0x40;
    public const string KernelVersionString = "6.1.0-minivmm-test (tests@minivmm) #1 SMP";

    /// <summary>x86-looking bytes: CALL/JMP with near and far operands, so the BCJ filter has work.</summary>
    public static byte[] CodeLike(int length, int seed)
    {
        var random = new Random(seed);
        var code = new byte[length + 8];
        int i = 0;
        while (i < length)
        {
            switch (random.Next(4))
            {
                case 0 or 1:
                    code[i] = (byte)(random.Next(2) == 0 ? 0xE8 : 0xE9);
                    BinaryPrimitives.WriteInt32LittleEndian(code.AsSpan(i + 1), random.Next(-0x8_0000, 0x8_0000));
                    i += 5;
                    break;
                case 2:
                    code[i] = 0xE8;
                    BinaryPrimitives.WriteUInt32LittleEndian(code.AsSpan(i + 1), (uint)random.Next(0x0100_0000, 0x7E00_0000));
                    i += 5;
                    break;
                default:
                    "\x55\x48\x89\xE5\x90\xC3"u8.CopyTo(code.AsSpan(i));
                    i += 6;
                    break;
            }
        }
        return code[..length];
    }

    /// <summary>A small vmlinux: 64 KiB of code-like text at 16 MiB plus 64 KiB of bss.</summary>
    public static byte[] SmallElf(int codeLength = 64 << 10) =>
        Elf(KernelBase, new TestSegment(KernelBase, CodeLike(codeLength, 1), (ulong)codeLength + 0x1_0000, 0xFFFF_FFFF_8100_0000));

    public static byte[] Elf(ulong entry, params TestSegment[] segments)
    {
        const int HeaderSize = 64;
        const int PhSize = 56;
        int dataStart = HeaderSize + (PhSize * segments.Length);
        int length = dataStart + segments.Sum(s => s.Data.Length);
        var elf = new byte[length];
        "\x7F\x45\x4C\x46"u8.CopyTo(elf);
        elf[4] = 2; // ELFCLASS64
        elf[5] = 1; // little-endian
        elf[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(16), 2);   // ET_EXEC
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(18), 62);  // EM_X86_64
        BinaryPrimitives.WriteUInt32LittleEndian(elf.AsSpan(20), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(24), entry);
        BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(32), HeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(52), HeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(54), PhSize);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(56), (ushort)segments.Length);
        int offset = dataStart;
        for (int i = 0; i < segments.Length; i++)
        {
            var s = segments[i];
            var ph = elf.AsSpan(HeaderSize + (i * PhSize));
            BinaryPrimitives.WriteUInt32LittleEndian(ph, 1);       // PT_LOAD
            BinaryPrimitives.WriteUInt32LittleEndian(ph[4..], 7);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[8..], (ulong)offset);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[16..], s.VirtualAddress);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[24..], s.PhysicalAddress);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[32..], (ulong)s.Data.Length);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[40..], s.MemorySize);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[48..], 0x20_0000);
            s.Data.CopyTo(elf, offset);
            offset += s.Data.Length;
        }
        return elf;
    }

    /// <summary>A bzImage around <paramref name="payload"/> (already with its size trailer), with Debian-like header values.</summary>
    public static byte[] BzImage(byte[] payload, int trailingBytes = 16)
    {
        int payloadStart = ProtectedModeStart + PayloadOffset;
        var image = new byte[payloadStart + payload.Length + trailingBytes];
        image[0] = (byte)'M';
        image[1] = (byte)'Z';
        image[0x1F1] = SetupSects;
        Put16(image, 0x1FE, 0xAA55);
        image[0x200] = 0xEB;
        image[0x201] = 0x6A;                        // header ends at 0x26C
        Put32(image, 0x202, 0x5372_6448);           // "HdrS"
        Put16(image, 0x206, 0x020F);
        Put16(image, 0x20E, 0x100);                 // kernel_version string at 0x300
        Encoding.ASCII.GetBytes(KernelVersionString).CopyTo(image, 0x300);
        image[0x211] = 0x01;                        // LOADED_HIGH
        Put32(image, 0x214, 0x10_0000);
        Put32(image, 0x22C, 0x7FFF_FFFF);
        Put32(image, 0x230, 0x20_0000);
        image[0x234] = 1;
        image[0x235] = 21;
        Put16(image, 0x236, 0x7F);
        Put32(image, 0x238, 0x7FF);
        Put32(image, 0x248, PayloadOffset);
        Put32(image, 0x24C, (uint)payload.Length);
        Put64(image, 0x258, KernelBase);
        Put32(image, 0x260, 0x3F9_8000);
        payload.CopyTo(image, payloadStart);
        new Random(7).NextBytes(image.AsSpan(payloadStart + payload.Length));
        return image;
    }

    public static byte[] BzImage(string compression, byte[] vmlinux) => BzImage(WithSizeTrailer(Compress(compression, vmlinux), vmlinux.Length));

    public static void Put16(byte[] image, int offset, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(offset), value);
    public static void Put32(byte[] image, int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(offset), value);
    public static void Put64(byte[] image, int offset, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(offset), value);

    public static byte[] WithSizeTrailer(byte[] compressed, int uncompressedLength)
    {
        var result = new byte[compressed.Length + 4];
        compressed.CopyTo(result, 0);
        BinaryPrimitives.WriteInt32LittleEndian(result.AsSpan(compressed.Length), uncompressedLength);
        return result;
    }

    public static byte[] Compress(string compression, byte[] data) => compression switch
    {
        "gzip" => Gzip(data),
        "zstd" => new ZstdSharp.Compressor(19).Wrap(data).ToArray(),
        "lz4" => Lz4Legacy(data),
        "xz" => Tool("xz", "--format=xz --check=crc32 --x86 --lzma2=preset=6,pb=0 -c", data),
        "none" => data,
        _ => throw new ArgumentException(compression),
    };

    public static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
            gzip.Write(data);
        return output.ToArray();
    }

    /// <summary>LZ4 legacy frame as <c>lz4 -l</c> writes it: magic, then [le32 size][block] per 8 MiB of input.</summary>
    public static byte[] Lz4Legacy(byte[] data)
    {
        const int Chunk = 8 << 20;
        using var output = new MemoryStream();
        output.Write([0x02, 0x21, 0x4C, 0x18]);
        var target = new byte[LZ4Codec.MaximumOutputSize(Chunk)];
        Span<byte> header = stackalloc byte[4];
        for (int offset = 0; offset < data.Length; offset += Chunk)
        {
            var chunk = data.AsSpan(offset, Math.Min(Chunk, data.Length - offset));
            int size = LZ4Codec.Encode(chunk, target, LZ4Level.L09_HC);
            BinaryPrimitives.WriteInt32LittleEndian(header, size);
            output.Write(header);
            output.Write(target, 0, size);
        }
        return output.ToArray();
    }

    public static bool HasTool(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, name)));

    /// <summary>Runs a compressor CLI with stdin → stdout.</summary>
    public static byte[] Tool(string name, string arguments, byte[] input)
    {
        var start = new ProcessStartInfo(name, arguments) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {name}");
        var output = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(output);
        process.StandardInput.BaseStream.Write(input);
        process.StandardInput.Close();
        copy.Wait();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{name} {arguments} failed: {process.StandardError.ReadToEnd()}");
        return output.ToArray();
    }
}
