using System.Runtime.InteropServices;

namespace MiniVmm.Boot;

/// <summary>
/// Linux <c>struct boot_params</c>, the 4096-byte "zero page" (Documentation/x86/zero-page.rst). Only
/// the fields a direct-boot loader fills are typed; the BIOS/EFI/EDD structures the kernel expects
/// zeroed are opaque byte arrays of the right size, so every offset still matches the C layout.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct BootParams
{
    public const int Size = 4096;

    public Bytes64 ScreenInfo;        // 0x000 struct screen_info
    public Bytes20 ApmBiosInfo;       // 0x040 struct apm_bios_info
    public Bytes4 Pad2;               // 0x054
    public ulong TbootAddr;           // 0x058
    public Bytes16 IstInfo;           // 0x060 struct ist_info
    public ulong AcpiRsdpAddr;        // 0x070
    public Bytes8 Pad3;               // 0x078
    public Bytes16 Hd0Info;           // 0x080 obsolete
    public Bytes16 Hd1Info;           // 0x090 obsolete
    public Bytes16 SysDescTable;      // 0x0A0 obsolete
    public Bytes16 OlpcOfwHeader;     // 0x0B0
    public uint ExtRamdiskImage;      // 0x0C0 high 32 bits of ramdisk_image
    public uint ExtRamdiskSize;       // 0x0C4
    public uint ExtCmdLinePtr;        // 0x0C8
    public Bytes112 Pad4;             // 0x0CC
    public uint CcBlobAddress;        // 0x13C
    public Bytes128 EdidInfo;         // 0x140
    public Bytes32 EfiInfo;           // 0x1C0
    public uint AltMemK;              // 0x1E0
    public uint Scratch;              // 0x1E4
    public byte E820Entries;          // 0x1E8
    public byte EddbufEntries;        // 0x1E9
    public byte EddMbrSigBufEntries;  // 0x1EA
    public byte KbdStatus;            // 0x1EB
    public byte SecureBoot;           // 0x1EC
    public Bytes2 Pad5;               // 0x1ED
    public byte Sentinel;             // 0x1EF must stay 0: nonzero tells the kernel we copied junk
    public byte Pad6;                 // 0x1F0
    public SetupHeader Hdr;           // 0x1F1
    public Bytes36 Pad7;              // 0x26C up to 0x290
    public Bytes64 EddMbrSigBuffer;   // 0x290 u32[16]
    public E820Table E820Table;       // 0x2D0
    public Bytes48 Pad8;              // 0xCD0
    public Bytes492 Eddbuf;           // 0xD00 struct edd_info[6]
    public Bytes276 Pad9;             // 0xEEC
}
