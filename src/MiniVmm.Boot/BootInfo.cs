namespace MiniVmm.Boot;

/// <summary>
/// Everything the machine layer needs to start the boot vCPU at the 64-bit entry: RIP = Entry,
/// RSI = ZeroPage, RSP = RBP = StackPointer, CR3 = PageTableRoot, the descriptor tables, the
/// segments for CS (Code), DS/ES/FS/GS/SS (Data) and TR (Tss), and the control registers.
/// </summary>
public sealed record BootInfo
{
    public required ulong Entry { get; init; }
    public required ulong ZeroPage { get; init; }
    public required ulong StackPointer { get; init; }
    public required ulong PageTableRoot { get; init; }
    public required DescriptorTable Gdt { get; init; }
    public required DescriptorTable Idt { get; init; }
    public required SegmentInfo Code { get; init; }
    public required SegmentInfo Data { get; init; }
    public required SegmentInfo Tss { get; init; }
    public ulong Cr0 { get; init; } = BootLayout.Cr0;
    public ulong Cr4 { get; init; } = BootLayout.Cr4;
    public ulong Efer { get; init; } = BootLayout.Efer;
    public ulong Rflags { get; init; } = BootLayout.Rflags;
    public required PhysicalRange KernelRange { get; init; }
    public required PhysicalRange? InitrdRange { get; init; }
    public required PhysicalRange CommandLine { get; init; }
    public required PhysicalRange MpTable { get; init; }
    public required IReadOnlyList<E820Entry> E820 { get; init; }
}

/// <summary>Optional inputs to <see cref="LinuxLoader.Load"/>.</summary>
public sealed record LoadOptions
{
    /// <summary>
    /// The initrd's name for messages. Setting it says an initrd was supplied, so an empty span is an
    /// error ("initrd … is empty") rather than "no initrd".
    /// </summary>
    public string? InitrdName { get; init; }

    /// <summary>Guest RAM for the e820 map; default: every region of the GuestMemory (set it when some regions are not RAM).</summary>
    public IReadOnlyList<PhysicalRange>? Ram { get; init; }

    /// <summary>PCI INTx wiring to describe in the MP table (none needed for MSI-X-only devices).</summary>
    public IReadOnlyList<PciInterruptRoute>? PciInterruptRoutes { get; init; }
}
