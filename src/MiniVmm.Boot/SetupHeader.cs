using System.Runtime.InteropServices;

namespace MiniVmm.Boot;

/// <summary>
/// Linux <c>struct setup_header</c> (arch/x86/include/uapi/asm/bootparam.h; Documentation/x86/boot.rst).
/// It sits at file offset 0x1F1 of a bzImage and at the same offset inside boot_params. Comments give
/// the absolute offset (file and zero page alike). 0x7B bytes.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct SetupHeader
{
    public const ulong Offset = 0x1F1;
    public const ushort BootFlagMagic = 0xAA55;
    public const uint HeaderMagic = 0x5372_6448; // "HdrS"

    // loadflags bits.
    public const byte LoadedHigh = 0x01;
    public const byte CanUseHeap = 0x80;

    // xloadflags bits.
    public const ushort XlfKernel64 = 0x01;
    public const ushort XlfCanBeLoadedAbove4G = 0x02;

    public byte SetupSects;           // 0x1F1
    public ushort RootFlags;          // 0x1F2
    public uint Syssize;              // 0x1F4
    public ushort RamSize;            // 0x1F8
    public ushort VidMode;            // 0x1FA
    public ushort RootDev;            // 0x1FC
    public ushort BootFlag;           // 0x1FE
    public ushort Jump;               // 0x200
    public uint Header;               // 0x202
    public ushort Version;            // 0x206
    public uint RealmodeSwtch;        // 0x208
    public ushort StartSysSeg;        // 0x20C
    public ushort KernelVersion;      // 0x20E
    public byte TypeOfLoader;         // 0x210
    public byte LoadFlags;            // 0x211
    public ushort SetupMoveSize;      // 0x212
    public uint Code32Start;          // 0x214
    public uint RamdiskImage;         // 0x218
    public uint RamdiskSize;          // 0x21C
    public uint BootsectKludge;       // 0x220
    public ushort HeapEndPtr;         // 0x224
    public byte ExtLoaderVer;         // 0x226
    public byte ExtLoaderType;        // 0x227
    public uint CmdLinePtr;           // 0x228
    public uint InitrdAddrMax;        // 0x22C
    public uint KernelAlignment;      // 0x230
    public byte RelocatableKernel;    // 0x234
    public byte MinAlignment;         // 0x235
    public ushort XLoadFlags;         // 0x236
    public uint CmdlineSize;          // 0x238
    public uint HardwareSubarch;      // 0x23C
    public ulong HardwareSubarchData; // 0x240
    public uint PayloadOffset;        // 0x248
    public uint PayloadLength;        // 0x24C
    public ulong SetupData;           // 0x250
    public ulong PrefAddress;         // 0x258
    public uint InitSize;             // 0x260
    public uint HandoverOffset;       // 0x264
    public uint KernelInfoOffset;     // 0x268
}
