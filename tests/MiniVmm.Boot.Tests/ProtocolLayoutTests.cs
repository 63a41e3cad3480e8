using System.Runtime.CompilerServices;

namespace MiniVmm.Boot.Tests;

/// <summary>
/// Sizes and offsets of the wire structs against Linux's bootparam.h / zero-page.rst / boot.rst and
/// mpspec_def.h. Offsets are measured on the real managed layout (Unsafe.ByteOffset), not Marshal.
/// </summary>
public sealed class ProtocolLayoutTests
{
    [Theory]
    [InlineData("BootParams", 4096)]
    [InlineData("SetupHeader", 0x7B)]
    [InlineData("E820Entry", 20)]
    [InlineData("E820Table", 128 * 20)]
    [InlineData("MpfIntel", 16)]
    [InlineData("MpcTable", 44)]
    [InlineData("MpcCpu", 20)]
    [InlineData("MpcBus", 8)]
    [InlineData("MpcIoapic", 8)]
    [InlineData("MpcIntsrc", 8)]
    [InlineData("MpcLintsrc", 8)]
    public void StructSizesMatchLinux(string type, int size)
    {
        int actual = type switch
        {
            "BootParams" => Unsafe.SizeOf<BootParams>(),
            "SetupHeader" => Unsafe.SizeOf<SetupHeader>(),
            "E820Entry" => Unsafe.SizeOf<E820Entry>(),
            "E820Table" => Unsafe.SizeOf<E820Table>(),
            "MpfIntel" => Unsafe.SizeOf<MpfIntel>(),
            "MpcTable" => Unsafe.SizeOf<MpcTable>(),
            "MpcCpu" => Unsafe.SizeOf<MpcCpu>(),
            "MpcBus" => Unsafe.SizeOf<MpcBus>(),
            "MpcIoapic" => Unsafe.SizeOf<MpcIoapic>(),
            "MpcIntsrc" => Unsafe.SizeOf<MpcIntsrc>(),
            "MpcLintsrc" => Unsafe.SizeOf<MpcLintsrc>(),
            _ => throw new ArgumentException(type),
        };
        Assert.Equal(size, actual);
    }

    [Theory]
    [InlineData("acpi_rsdp_addr", 0x070)]
    [InlineData("ext_ramdisk_image", 0x0C0)]
    [InlineData("ext_ramdisk_size", 0x0C4)]
    [InlineData("ext_cmd_line_ptr", 0x0C8)]
    [InlineData("cc_blob_address", 0x13C)]
    [InlineData("edid_info", 0x140)]
    [InlineData("efi_info", 0x1C0)]
    [InlineData("alt_mem_k", 0x1E0)]
    [InlineData("e820_entries", 0x1E8)]
    [InlineData("eddbuf_entries", 0x1E9)]
    [InlineData("sentinel", 0x1EF)]
    [InlineData("hdr", 0x1F1)]
    [InlineData("edd_mbr_sig_buffer", 0x290)]
    [InlineData("e820_table", 0x2D0)]
    [InlineData("eddbuf", 0xD00)]
    public void BootParamsOffsets(string field, int offset)
    {
        var p = new BootParams();
        int actual = field switch
        {
            "acpi_rsdp_addr" => Off(ref p, ref p.AcpiRsdpAddr),
            "ext_ramdisk_image" => Off(ref p, ref p.ExtRamdiskImage),
            "ext_ramdisk_size" => Off(ref p, ref p.ExtRamdiskSize),
            "ext_cmd_line_ptr" => Off(ref p, ref p.ExtCmdLinePtr),
            "cc_blob_address" => Off(ref p, ref p.CcBlobAddress),
            "edid_info" => Off(ref p, ref p.EdidInfo),
            "efi_info" => Off(ref p, ref p.EfiInfo),
            "alt_mem_k" => Off(ref p, ref p.AltMemK),
            "e820_entries" => Off(ref p, ref p.E820Entries),
            "eddbuf_entries" => Off(ref p, ref p.EddbufEntries),
            "sentinel" => Off(ref p, ref p.Sentinel),
            "hdr" => Off(ref p, ref p.Hdr),
            "edd_mbr_sig_buffer" => Off(ref p, ref p.EddMbrSigBuffer),
            "e820_table" => Off(ref p, ref p.E820Table),
            "eddbuf" => Off(ref p, ref p.Eddbuf),
            _ => throw new ArgumentException(field),
        };
        Assert.Equal(offset, actual);
    }

    /// <summary>Offsets are absolute (zero page and file alike), as boot.rst lists them.</summary>
    [Theory]
    [InlineData("setup_sects", 0x1F1)]
    [InlineData("boot_flag", 0x1FE)]
    [InlineData("header", 0x202)]
    [InlineData("version", 0x206)]
    [InlineData("kernel_version", 0x20E)]
    [InlineData("type_of_loader", 0x210)]
    [InlineData("loadflags", 0x211)]
    [InlineData("code32_start", 0x214)]
    [InlineData("ramdisk_image", 0x218)]
    [InlineData("ramdisk_size", 0x21C)]
    [InlineData("heap_end_ptr", 0x224)]
    [InlineData("cmd_line_ptr", 0x228)]
    [InlineData("initrd_addr_max", 0x22C)]
    [InlineData("kernel_alignment", 0x230)]
    [InlineData("relocatable_kernel", 0x234)]
    [InlineData("xloadflags", 0x236)]
    [InlineData("cmdline_size", 0x238)]
    [InlineData("payload_offset", 0x248)]
    [InlineData("payload_length", 0x24C)]
    [InlineData("setup_data", 0x250)]
    [InlineData("pref_address", 0x258)]
    [InlineData("init_size", 0x260)]
    [InlineData("handover_offset", 0x264)]
    [InlineData("kernel_info_offset", 0x268)]
    public void SetupHeaderOffsets(string field, int offset)
    {
        var p = new BootParams();
        int actual = field switch
        {
            "setup_sects" => Off(ref p, ref p.Hdr.SetupSects),
            "boot_flag" => Off(ref p, ref p.Hdr.BootFlag),
            "header" => Off(ref p, ref p.Hdr.Header),
            "version" => Off(ref p, ref p.Hdr.Version),
            "kernel_version" => Off(ref p, ref p.Hdr.KernelVersion),
            "type_of_loader" => Off(ref p, ref p.Hdr.TypeOfLoader),
            "loadflags" => Off(ref p, ref p.Hdr.LoadFlags),
            "code32_start" => Off(ref p, ref p.Hdr.Code32Start),
            "ramdisk_image" => Off(ref p, ref p.Hdr.RamdiskImage),
            "ramdisk_size" => Off(ref p, ref p.Hdr.RamdiskSize),
            "heap_end_ptr" => Off(ref p, ref p.Hdr.HeapEndPtr),
            "cmd_line_ptr" => Off(ref p, ref p.Hdr.CmdLinePtr),
            "initrd_addr_max" => Off(ref p, ref p.Hdr.InitrdAddrMax),
            "kernel_alignment" => Off(ref p, ref p.Hdr.KernelAlignment),
            "relocatable_kernel" => Off(ref p, ref p.Hdr.RelocatableKernel),
            "xloadflags" => Off(ref p, ref p.Hdr.XLoadFlags),
            "cmdline_size" => Off(ref p, ref p.Hdr.CmdlineSize),
            "payload_offset" => Off(ref p, ref p.Hdr.PayloadOffset),
            "payload_length" => Off(ref p, ref p.Hdr.PayloadLength),
            "setup_data" => Off(ref p, ref p.Hdr.SetupData),
            "pref_address" => Off(ref p, ref p.Hdr.PrefAddress),
            "init_size" => Off(ref p, ref p.Hdr.InitSize),
            "handover_offset" => Off(ref p, ref p.Hdr.HandoverOffset),
            "kernel_info_offset" => Off(ref p, ref p.Hdr.KernelInfoOffset),
            _ => throw new ArgumentException(field),
        };
        Assert.Equal(offset, actual);
    }

    private static int Off<T>(ref BootParams p, ref T field) =>
        (int)Unsafe.ByteOffset(ref Unsafe.As<BootParams, byte>(ref p), ref Unsafe.As<T, byte>(ref field));

    [Fact]
    public void E820TableEntriesAreTwentyBytesApart()
    {
        var p = new BootParams();
        ref byte b = ref Unsafe.As<BootParams, byte>(ref p);
        Assert.Equal(0x2D0 + (20 * 127), (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<E820Entry, byte>(ref p.E820Table[127])));
        Assert.Equal(0x2D0 + 16, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<uint, byte>(ref p.E820Table[0].Type)));
    }
}
