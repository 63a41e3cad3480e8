using System.Runtime.InteropServices;

namespace MiniVmm.Boot;

/// <summary>
/// Builds boot_params. Per boot.rst a loader starts from a zeroed page, copies the kernel's setup
/// header into it at 0x1F1 and then writes the loader-owned fields; for an ELF vmlinux there is no
/// header, so the few fields the kernel reads are synthesised.
/// </summary>
public static class ZeroPage
{
    public const byte LoaderTypeUndefined = 0xFF;  // "no assigned id" in boot.rst
    public const ushort HeapEnd = 0xFE00;          // heap_end_ptr: setup-code heap end, only used by the real-mode path

    /// <param name="setupData">The first setup_data node, or 0 (every kernel MiniVmm boots speaks protocol 2.12 or later, so reads it).</param>
    public static BootParams Build(KernelImage kernel, ulong commandLine, PhysicalRange? initrd, ReadOnlySpan<E820Entry> e820,
        ulong setupData = 0)
    {
        if (e820.Length > E820Map.MaxEntries)
            throw new BootException($"{e820.Length} e820 entries; the zero page holds {E820Map.MaxEntries}");
        var bootParams = default(BootParams);
        if (!kernel.SetupHeaderBytes.IsEmpty)
        {
            var view = MemoryMarshal.AsBytes(new Span<BootParams>(ref bootParams));
            kernel.SetupHeaderBytes.Span.CopyTo(view[(int)SetupHeader.Offset..]);
        }
        else
        {
            bootParams.Hdr.BootFlag = SetupHeader.BootFlagMagic;
            bootParams.Hdr.Header = SetupHeader.HeaderMagic;
            bootParams.Hdr.Version = 0x020C;
            bootParams.Hdr.KernelAlignment = 0x100_0000;
            bootParams.Hdr.InitrdAddrMax = (uint)kernel.InitrdAddressMax;
            bootParams.Hdr.CmdlineSize = (uint)kernel.CommandLineMax;
        }

        ref var hdr = ref bootParams.Hdr;
        hdr.TypeOfLoader = LoaderTypeUndefined;
        hdr.LoadFlags |= SetupHeader.CanUseHeap;
        hdr.HeapEndPtr = HeapEnd;
        hdr.CmdLinePtr = (uint)commandLine;
        bootParams.ExtCmdLinePtr = (uint)(commandLine >> 32);
        if (initrd is { } range)
        {
            hdr.RamdiskImage = (uint)range.Start;
            hdr.RamdiskSize = (uint)range.Length;
            bootParams.ExtRamdiskImage = (uint)(range.Start >> 32);
            bootParams.ExtRamdiskSize = (uint)(range.Length >> 32);
        }
        else
        {
            hdr.RamdiskImage = 0;
            hdr.RamdiskSize = 0;
        }

        hdr.SetupData = setupData;

        bootParams.E820Entries = (byte)e820.Length;
        for (int i = 0; i < e820.Length; i++)
            bootParams.E820Table[i] = e820[i];
        return bootParams;
    }
}
