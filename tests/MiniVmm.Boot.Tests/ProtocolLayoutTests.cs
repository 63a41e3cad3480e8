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
        ref byte b = ref Unsafe.As<BootParams, byte>(ref p);
        ref byte f = ref field switch
        {
            "acpi_rsdp_addr" => ref Unsafe.As<ulong, byte>(ref p.AcpiRsdpAddr),
            "ext_ramdisk_image" => ref Unsafe.As<uint, byte>(ref p.ExtRamdiskImage),
            "ext_ramdisk_size" => ref Unsafe.As<uint, byte>(ref p.ExtRamdiskSize),
            "ext_cmd_line_ptr" => ref Unsafe.As<uint, byte>(ref p.ExtCmdLinePtr),
            "cc_blob_address" => ref Unsafe.As<uint, byte>(ref p.CcBlobAddress),
            "edid_info" => ref Unsafe.As<Bytes128, byte>(ref p.EdidInfo),
            "efi_info" => ref Unsafe.As<Bytes32, byte>(ref p.EfiInfo),
            "alt_mem_k" => ref Unsafe.As<uint, byte>(ref p.AltMemK),
            "e820_entries" => ref p.E820Entries,
            "eddbuf_entries" => ref p.EddbufEntries,
            "sentinel" => ref p.Sentinel,
            "hdr" => ref Unsafe.As<SetupHeader, byte>(ref p.Hdr),
            "edd_mbr_sig_buffer" => ref Unsafe.As<Bytes64, byte>(ref p.EddMbrSigBuffer),
            "e820_table" => ref Unsafe.As<E820Table, byte>(ref p.E820Table),
            "eddbuf" => ref Unsafe.As<Bytes492, byte>(ref p.Eddbuf),
            _ => throw new ArgumentException(field),
        };
        Assert.Equal(offset, (int)Unsafe.ByteOffset(ref b, ref f));
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
        ref byte b = ref Unsafe.As<BootParams, byte>(ref p);
        ref var h = ref p.Hdr;
        ref byte f = ref field switch
        {
            "setup_sects" => ref h.SetupSects,
            "boot_flag" => ref Unsafe.As<ushort, byte>(ref h.BootFlag),
            "header" => ref Unsafe.As<uint, byte>(ref h.Header),
            "version" => ref Unsafe.As<ushort, byte>(ref h.Version),
            "kernel_version" => ref Unsafe.As<ushort, byte>(ref h.KernelVersion),
            "type_of_loader" => ref h.TypeOfLoader,
            "loadflags" => ref h.LoadFlags,
            "code32_start" => ref Unsafe.As<uint, byte>(ref h.Code32Start),
            "ramdisk_image" => ref Unsafe.As<uint, byte>(ref h.RamdiskImage),
            "ramdisk_size" => ref Unsafe.As<uint, byte>(ref h.RamdiskSize),
            "heap_end_ptr" => ref Unsafe.As<ushort, byte>(ref h.HeapEndPtr),
            "cmd_line_ptr" => ref Unsafe.As<uint, byte>(ref h.CmdLinePtr),
            "initrd_addr_max" => ref Unsafe.As<uint, byte>(ref h.InitrdAddrMax),
            "kernel_alignment" => ref Unsafe.As<uint, byte>(ref h.KernelAlignment),
            "relocatable_kernel" => ref h.RelocatableKernel,
            "xloadflags" => ref Unsafe.As<ushort, byte>(ref h.XLoadFlags),
            "cmdline_size" => ref Unsafe.As<uint, byte>(ref h.CmdlineSize),
            "payload_offset" => ref Unsafe.As<uint, byte>(ref h.PayloadOffset),
            "payload_length" => ref Unsafe.As<uint, byte>(ref h.PayloadLength),
            "setup_data" => ref Unsafe.As<ulong, byte>(ref h.SetupData),
            "pref_address" => ref Unsafe.As<ulong, byte>(ref h.PrefAddress),
            "init_size" => ref Unsafe.As<uint, byte>(ref h.InitSize),
            "handover_offset" => ref Unsafe.As<uint, byte>(ref h.HandoverOffset),
            "kernel_info_offset" => ref Unsafe.As<uint, byte>(ref h.KernelInfoOffset),
            _ => throw new ArgumentException(field),
        };
        Assert.Equal(offset, (int)Unsafe.ByteOffset(ref b, ref f));
    }

    [Fact]
    public void E820TableEntriesAreTwentyBytesApart()
    {
        var p = new BootParams();
        ref byte b = ref Unsafe.As<BootParams, byte>(ref p);
        Assert.Equal(0x2D0 + (20 * 127), (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<E820Entry, byte>(ref p.E820Table[127])));
        Assert.Equal(0x2D0 + 16, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<uint, byte>(ref p.E820Table[0].Type)));
    }
}
