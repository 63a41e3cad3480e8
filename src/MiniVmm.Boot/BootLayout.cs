namespace MiniVmm.Boot;

/// <summary>
/// Every fixed guest-physical address the loader uses. All of it lives in the first MiB, below the
/// kernel (which loads at 16 MiB or wherever its ELF says, never below <see cref="HighMemory"/>).
/// </summary>
public static class BootLayout
{
    /// <summary>Boot GDT: null, code 0x08, data 0x10, TSS 0x18 (4 × 8 bytes).</summary>
    public const ulong Gdt = 0x500;

    /// <summary>An empty IDT; the kernel installs its own before enabling interrupts.</summary>
    public const ulong Idt = 0x520;

    /// <summary>boot_params, the "zero page"; RSI points here at the 64-bit entry.</summary>
    public const ulong ZeroPage = 0x7000;

    /// <summary>Initial RSP/RBP. startup_64 switches to its own stack almost at once.</summary>
    public const ulong BootStack = 0x8FF0;

    /// <summary>Identity-map page tables: PML4, one PDPT, then four page directories (4 GiB of 2 MiB pages).</summary>
    public const ulong Pml4 = 0x9000;
    public const ulong Pdpt = 0xA000;
    public const ulong PageDirectories = 0xB000;

    /// <summary>Kernel command line, NUL-terminated.</summary>
    public const ulong CommandLine = 0x20000;

    /// <summary>Room at <see cref="CommandLine"/>, including the NUL. The kernel's cmdline_size may lower it.</summary>
    public const int CommandLineMax = 2048;

    /// <summary>The setup_data list (one SETUP_RNG_SEED node), right after the command line's room.</summary>
    public const ulong SetupData = CommandLine + CommandLineMax;

    /// <summary>
    /// Start of the e820-reserved area (the classic EBDA start, 639 KiB). Linux scans 0x9FC00 for
    /// the MP floating pointer ("top 1K of base RAM"), so the MP table lives here.
    /// </summary>
    public const ulong EbdaStart = 0x9FC00;
    public const ulong MpTable = EbdaStart;

    /// <summary>First byte of "high" memory (1 MiB); [EbdaStart, HighMemory) is reserved in e820.</summary>
    public const ulong HighMemory = 0x100000;

    /// <summary>4 GiB: RAM above it is reported separately; the identity map and the initrd stay below it.</summary>
    public const ulong FourGiB = 0x1_0000_0000;

    /// <summary>Control registers for the 64-bit entry: PE | ET | PG; PAE; LME | LMA (long mode active).</summary>
    public const ulong Cr0 = 0x8000_0011;
    public const ulong Cr4 = 0x20;
    public const ulong Efer = 0x500;

    /// <summary>RFLAGS at entry: only the always-one bit 1 (interrupts off).</summary>
    public const ulong Rflags = 0x2;
}
