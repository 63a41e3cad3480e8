using System.Buffers.Binary;

namespace MiniVmm.Firmware;

/// <summary>
/// Writes a minimal ELF64 x86-64 executable: one PT_LOAD per segment, loaded at its physical address.
/// Payloads are ELF so they boot through exactly the loader path a vmlinux takes.
/// </summary>
public static class ElfImage
{
    public sealed record Segment(ulong PhysicalAddress, byte[] Bytes, ulong MemorySize);

    private const int HeaderSize = 64, ProgramHeaderSize = 56, PageSize = 0x1000;

    public static byte[] Build(ulong entry, params Segment[] segments)
    {
        int dataStart = PageSize;
        var offsets = new List<int>();
        int cursor = dataStart;
        foreach (var segment in segments)
        {
            offsets.Add(cursor);
            cursor += (segment.Bytes.Length + PageSize - 1) / PageSize * PageSize;
        }
        var image = new byte[Math.Max(cursor, dataStart)];
        var span = image.AsSpan();
        span[0] = 0x7F;
        span[1] = (byte)'E';
        span[2] = (byte)'L';
        span[3] = (byte)'F';
        span[4] = 2; // ELFCLASS64
        span[5] = 1; // little-endian
        span[6] = 1; // EV_CURRENT
        BinaryPrimitives.WriteUInt16LittleEndian(span[16..], 2);    // ET_EXEC
        BinaryPrimitives.WriteUInt16LittleEndian(span[18..], 62);   // EM_X86_64
        BinaryPrimitives.WriteUInt32LittleEndian(span[20..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(span[24..], entry);
        BinaryPrimitives.WriteUInt64LittleEndian(span[32..], HeaderSize); // e_phoff
        BinaryPrimitives.WriteUInt16LittleEndian(span[52..], HeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(span[54..], ProgramHeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(span[56..], (ushort)segments.Length);
        for (int i = 0; i < segments.Length; i++)
        {
            var header = span.Slice(HeaderSize + i * ProgramHeaderSize, ProgramHeaderSize);
            var segment = segments[i];
            BinaryPrimitives.WriteUInt32LittleEndian(header, 1);        // PT_LOAD
            BinaryPrimitives.WriteUInt32LittleEndian(header[4..], 7);   // RWX
            BinaryPrimitives.WriteUInt64LittleEndian(header[8..], (ulong)offsets[i]);
            BinaryPrimitives.WriteUInt64LittleEndian(header[16..], segment.PhysicalAddress); // p_vaddr
            BinaryPrimitives.WriteUInt64LittleEndian(header[24..], segment.PhysicalAddress); // p_paddr
            BinaryPrimitives.WriteUInt64LittleEndian(header[32..], (ulong)segment.Bytes.Length);
            BinaryPrimitives.WriteUInt64LittleEndian(header[40..], Math.Max(segment.MemorySize, (ulong)segment.Bytes.Length));
            BinaryPrimitives.WriteUInt64LittleEndian(header[48..], PageSize);
            segment.Bytes.CopyTo(span[offsets[i]..]);
        }
        return image;
    }
}
