using MiniVmm.Memory;

namespace MiniVmm.Boot;

/// <summary>Where a vmlinux went: its entry point and the [low, high) range its segments occupy.</summary>
public readonly record struct ElfLoadResult(ulong Entry, PhysicalRange Range);

/// <summary>
/// Copies the PT_LOAD segments of a validated vmlinux to their physical addresses and zeroes the
/// bss tails. The ELF was bounds-checked against its own file when parsed; here each segment is
/// checked against guest memory before anything is written.
/// </summary>
public static class ElfLoader
{
    public static ElfLoadResult Load(GuestMemory memory, KernelImage kernel) => Load(memory, kernel.Elf);

    public static ElfLoadResult Load(GuestMemory memory, ElfImage elf)
    {
        foreach (var segment in elf.Segments)
        {
            if (memory.Locate(new GuestAddress(segment.PhysicalAddress), segment.MemorySize, out _, out _) != GuestMemoryError.None)
                throw OutOfMemory(memory, "kernel", elf.High);
        }
        var file = elf.Bytes.Span;
        foreach (var segment in elf.Segments)
        {
            _ = memory.TryGetSpan(new GuestAddress(segment.PhysicalAddress), segment.MemorySize, out var target);
            file.Slice((int)segment.FileOffset, (int)segment.FileSize).CopyTo(target);
            target[(int)segment.FileSize..].Clear();
        }
        return new ElfLoadResult(elf.Entry, new PhysicalRange(elf.Low, elf.High));
    }

    /// <summary>End of the RAM that holds 1 MiB: the kernel and initrd must fit below it.</summary>
    internal static ulong LowRamEnd(GuestMemory memory)
    {
        foreach (var region in memory.Regions)
        {
            if (region.Contains(BootLayout.HighMemory))
                return Math.Min(region.End, BootLayout.FourGiB);
        }
        return 0;
    }

    /// <summary>"kernel needs memory up to 0x…, but the guest has 0x…; use --memory …" with a size that leaves the kernel room to run.</summary>
    internal static BootException OutOfMemory(GuestMemory memory, string what, ulong needed)
    {
        const ulong Step = 64 << 20;
        ulong suggestion = ((needed + Step - 1) / Step * Step) + Step;
        return new BootException(
            $"{what} needs memory up to 0x{needed:x}, but the guest has 0x{LowRamEnd(memory):x}; use --memory {suggestion >> 20}M or more");
    }
}
