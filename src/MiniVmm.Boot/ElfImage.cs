using System.Buffers.Binary;

namespace MiniVmm.Boot;

/// <summary>One PT_LOAD segment: file bytes [FileOffset, +FileSize) go to PhysicalAddress; the rest of MemorySize is zeroed (bss).</summary>
public readonly record struct ElfSegment(ulong FileOffset, ulong FileSize, ulong PhysicalAddress, ulong MemorySize)
{
    public ulong PhysicalEnd => PhysicalAddress + MemorySize;
}

/// <summary>
/// A validated ELF64 x86-64 executable (a vmlinux). Validation happens once, here: every PT_LOAD lies
/// inside the file, inside [1 MiB, 4 GiB) of guest-physical space, and no two overlap, so the loader
/// can copy without re-checking the file. Only little-endian ELF64 for EM_X86_64 is accepted.
/// </summary>
public sealed class ElfImage
{
    private const int HeaderSize = 64;
    private const int ProgramHeaderSize = 56;
    private const int MaxProgramHeaders = 64;
    private const uint PtLoad = 1;
    private const ushort EtExec = 2;
    private const ushort EmX86_64 = 62;

    /// <summary>Bounds for a sane kernel: above the boot structures, below the 32-bit MMIO hole's end.</summary>
    public const ulong MinPhysicalAddress = BootLayout.HighMemory;
    public const ulong MaxPhysicalEnd = BootLayout.FourGiB;

    /// <summary>A vmlinux segment is tens of MiB; 1 GiB keeps every span length an int.</summary>
    public const ulong MaxSegmentSize = 1 << 30;

    private ElfImage(ReadOnlyMemory<byte> bytes, ulong entry, ElfSegment[] segments)
    {
        Bytes = bytes;
        Entry = entry;
        Segments = segments;
        Low = segments[0].PhysicalAddress;
        High = segments.Max(s => s.PhysicalEnd);
    }

    public ReadOnlyMemory<byte> Bytes { get; }

    /// <summary>Guest-physical entry point (for an x86-64 vmlinux: startup_64).</summary>
    public ulong Entry { get; }

    /// <summary>PT_LOAD segments with a non-zero memory size, sorted by physical address.</summary>
    public IReadOnlyList<ElfSegment> Segments { get; }

    /// <summary>Lowest loaded physical address and the exclusive end of the highest segment.</summary>
    public ulong Low { get; }
    public ulong High { get; }

    public static bool HasElfMagic(ReadOnlySpan<byte> bytes) => bytes is [0x7F, 0x45, 0x4C, 0x46, ..];

    public static ElfImage Parse(ReadOnlyMemory<byte> bytes, string name)
    {
        var data = bytes.Span;
        if (!HasElfMagic(data))
            throw new BootException($"{name} is not an ELF file (no \\x7fELF magic)");
        if (data.Length < HeaderSize)
            throw new BootException($"{name} is a truncated ELF file ({data.Length} bytes, header needs {HeaderSize})");
        if (data[4] != 2)
            throw new BootException($"{name} is a 32-bit ELF; MiniVmm boots x86-64 kernels only");
        if (data[5] != 1)
            throw new BootException($"{name} is a big-endian ELF; MiniVmm boots x86-64 kernels only");
        ushort type = BinaryPrimitives.ReadUInt16LittleEndian(data[16..]);
        ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(data[18..]);
        if (machine != EmX86_64)
            throw new BootException($"{name} is an ELF for machine {machine}, not x86-64 (62)");
        if (type != EtExec)
            throw new BootException($"{name} is an ELF of type {type}, not an executable (a vmlinux is ET_EXEC)");

        ulong entry = BinaryPrimitives.ReadUInt64LittleEndian(data[24..]);
        ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(data[32..]);
        ushort phentsize = BinaryPrimitives.ReadUInt16LittleEndian(data[54..]);
        ushort phnum = BinaryPrimitives.ReadUInt16LittleEndian(data[56..]);
        if (phentsize != ProgramHeaderSize || phnum == 0 || phnum > MaxProgramHeaders)
            throw new BootException($"{name} has an unusable program header table ({phnum} entries of {phentsize} bytes)");
        if (phoff > (ulong)data.Length || (ulong)phnum * ProgramHeaderSize > (ulong)data.Length - phoff)
            throw new BootException($"{name} is truncated: its program headers run past the end of the file");

        var segments = new List<(ElfSegment Segment, ulong Virtual)>();
        for (int i = 0; i < phnum; i++)
        {
            var ph = data.Slice((int)phoff + (i * ProgramHeaderSize), ProgramHeaderSize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(ph) != PtLoad)
                continue;
            var segment = new ElfSegment(
                FileOffset: BinaryPrimitives.ReadUInt64LittleEndian(ph[8..]),
                FileSize: BinaryPrimitives.ReadUInt64LittleEndian(ph[32..]),
                PhysicalAddress: BinaryPrimitives.ReadUInt64LittleEndian(ph[24..]),
                MemorySize: BinaryPrimitives.ReadUInt64LittleEndian(ph[40..]));
            if (segment.MemorySize == 0)
                continue;
            Validate(segment, (ulong)data.Length, name);
            segments.Add((segment, BinaryPrimitives.ReadUInt64LittleEndian(ph[16..])));
        }
        if (segments.Count == 0)
            throw new BootException($"{name} has no loadable (PT_LOAD) segments");

        segments.Sort((a, b) => a.Segment.PhysicalAddress.CompareTo(b.Segment.PhysicalAddress));
        for (int i = 1; i < segments.Count; i++)
        {
            if (segments[i].Segment.PhysicalAddress < segments[i - 1].Segment.PhysicalEnd)
                throw new BootException($"{name} has overlapping segments at 0x{segments[i].Segment.PhysicalAddress:x}");
        }
        return new ElfImage(bytes, PhysicalEntry(entry, segments, name), [.. segments.Select(s => s.Segment)]);
    }

    private static void Validate(ElfSegment s, ulong fileLength, string name)
    {
        if (s.FileOffset > fileLength || s.FileSize > fileLength - s.FileOffset)
            throw new BootException($"{name} is truncated: a segment's file bytes [0x{s.FileOffset:x}, +0x{s.FileSize:x}) run past the end of the file (0x{fileLength:x})");
        if (s.FileSize > s.MemorySize)
            throw new BootException($"{name} has a segment whose file size exceeds its memory size");
        if (s.MemorySize > MaxSegmentSize)
            throw new BootException($"{name} has a segment of 0x{s.MemorySize:x} bytes, more than a kernel can need (1 GiB)");
        if (s.PhysicalAddress < MinPhysicalAddress || s.MemorySize > MaxPhysicalEnd || s.PhysicalAddress > MaxPhysicalEnd - s.MemorySize)
            throw new BootException($"{name} has a segment at 0x{s.PhysicalAddress:x} (+0x{s.MemorySize:x}) outside [0x{MinPhysicalAddress:x}, 0x{MaxPhysicalEnd:x})");
    }

    /// <summary>
    /// x86-64 vmlinux sets e_entry to the physical startup_64; an ELF whose entry is virtual is
    /// translated through the segment containing it.
    /// </summary>
    private static ulong PhysicalEntry(ulong entry, List<(ElfSegment Segment, ulong Virtual)> segments, string name)
    {
        foreach (var (segment, _) in segments)
        {
            if (entry >= segment.PhysicalAddress && entry < segment.PhysicalEnd)
                return entry;
        }
        foreach (var (segment, virtualAddress) in segments)
        {
            if (entry >= virtualAddress && entry - virtualAddress < segment.MemorySize)
                return segment.PhysicalAddress + (entry - virtualAddress);
        }
        throw new BootException($"{name} has its entry point 0x{entry:x} outside every loadable segment");
    }
}
