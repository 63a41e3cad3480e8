using System.Text;
using MiniVmm.Memory;

namespace MiniVmm.Boot;

/// <summary>
/// Lays out guest memory for Linux's 64-bit boot protocol: the vmlinux at its physical addresses,
/// GDT/IDT, identity page tables, MP table, command line, an RNG seed (setup_data), initrd and zero page. Everything is
/// validated (CPU count, command line, memory size, initrd) before the first byte is written.
/// </summary>
public static class LinuxLoader
{
    public static BootInfo Load(GuestMemory memory, KernelImage kernel, ReadOnlySpan<byte> initrd, string commandLine,
        int cpuCount, LoadOptions? options = null)
    {
        options ??= new LoadOptions();
        MpTable.ValidateCpuCount(cpuCount);
        byte[] cmdline = EncodeCommandLine(commandLine, kernel);
        if (options.InitrdName is { } initrdName && initrd.IsEmpty)
            throw new BootException($"initrd {initrdName} is empty (0 bytes)");
        if (memory.Locate(new GuestAddress(0), BootLayout.HighMemory, out _, out _) != GuestMemoryError.None)
            throw new BootException("guest RAM must start at address 0 and cover the first MiB, where the boot structures go");
        var e820 = options.Ram is { } ram ? E820Map.Build(ram) : E820Map.Build(memory);
        PhysicalRange? initrdRange = initrd.IsEmpty ? null : PlaceInitrd(memory, kernel, initrd.Length, options.InitrdName ?? "initrd");

        var loaded = ElfLoader.Load(memory, kernel);
        Gdt.Write(memory);
        ulong cr3 = PageTables.Write(memory);
        var mpTable = MpTable.Write(memory, cpuCount, options.PciInterruptRoutes);
        memory.Write(new GuestAddress(BootLayout.CommandLine), cmdline);
        if (initrdRange is { } range)
            memory.Write(new GuestAddress(range.Start), initrd);
        SetupData.WriteRngSeed(memory, BootLayout.SetupData);
        var bootParams = ZeroPage.Build(kernel, BootLayout.CommandLine, initrdRange, e820, BootLayout.SetupData);
        memory.Write(new GuestAddress(BootLayout.ZeroPage), in bootParams);

        return new BootInfo
        {
            Entry = loaded.Entry,
            ZeroPage = BootLayout.ZeroPage,
            StackPointer = BootLayout.BootStack,
            PageTableRoot = cr3,
            Gdt = Gdt.GdtTable,
            Idt = Gdt.IdtTable,
            Code = Gdt.Code,
            Data = Gdt.Data,
            Tss = Gdt.Tss,
            KernelRange = loaded.Range,
            InitrdRange = initrdRange,
            CommandLine = new PhysicalRange(BootLayout.CommandLine, BootLayout.CommandLine + (ulong)cmdline.Length),
            MpTable = mpTable,
            E820 = e820,
        };
    }

    /// <summary>Reads an initrd file, refusing an empty one (a zero-length initrd is always a mistake).</summary>
    public static byte[] ReadInitrd(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new BootException($"cannot read initrd {path}: {e.Message}", e);
        }
        return bytes.Length == 0 ? throw new BootException($"initrd {path} is empty (0 bytes)") : bytes;
    }

    /// <summary>The command line as NUL-terminated bytes, checked against the kernel's cmdline_size and our buffer.</summary>
    public static byte[] EncodeCommandLine(string commandLine, KernelImage kernel)
    {
        if (commandLine.Contains('\0', StringComparison.Ordinal))
            throw new BootException("the kernel command line contains a NUL character");
        int length = Encoding.UTF8.GetByteCount(commandLine);
        if (length > kernel.CommandLineMax)
            throw new BootException($"the kernel command line is {length} bytes; {kernel.Name} accepts at most {kernel.CommandLineMax}");
        var bytes = new byte[length + 1];
        Encoding.UTF8.GetBytes(commandLine, bytes);
        return bytes;
    }

    /// <summary>
    /// Puts the initrd page-aligned as high as possible in low RAM (below initrd_addr_max and 4 GiB),
    /// as boot loaders traditionally do, and insists it stays above the kernel's loaded image.
    /// </summary>
    public static PhysicalRange PlaceInitrd(GuestMemory memory, KernelImage kernel, long size, string name)
    {
        ulong kernelEnd = AlignUp(kernel.Elf.High, GuestMemory.PageSize);
        ulong ceiling = Math.Min(ElfLoader.LowRamEnd(memory), kernel.InitrdAddressMax + 1);
        ulong length = (ulong)size;
        if (length > ceiling || AlignDown(ceiling - length, GuestMemory.PageSize) < kernelEnd)
        {
            ulong needed = kernelEnd + AlignUp(length, GuestMemory.PageSize);
            if (needed > kernel.InitrdAddressMax + 1)
                throw new BootException($"initrd {name} ({length >> 20} MiB) does not fit between the kernel's end 0x{kernelEnd:x} and initrd_addr_max 0x{kernel.InitrdAddressMax:x}");
            throw ElfLoader.OutOfMemory(memory, $"kernel plus initrd {name} ({length >> 20} MiB)", needed);
        }
        ulong start = AlignDown(ceiling - length, GuestMemory.PageSize);
        return new PhysicalRange(start, start + length);
    }

    private static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) & ~(alignment - 1);
    private static ulong AlignDown(ulong value, ulong alignment) => value & ~(alignment - 1);
}
