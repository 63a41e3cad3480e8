namespace MiniVmm.Pci;

// Type-0 header offsets and bits from the PCI Local Bus Specification 3.0 §6.1-6.2, named as in
// Linux's include/uapi/linux/pci_regs.h so each can be checked against both.
public sealed partial class PciConfigSpace
{
    public const int PCI_VENDOR_ID = 0x00;
    public const int PCI_DEVICE_ID = 0x02;
    public const int PCI_COMMAND = 0x04;
    public const int PCI_STATUS = 0x06;
    public const int PCI_REVISION_ID = 0x08;
    /// <summary>Three bytes: programming interface (0x09), subclass (0x0A), base class (0x0B).</summary>
    public const int PCI_CLASS_PROG = 0x09;
    /// <summary>The 16-bit (base class, subclass) pair Linux reads as "the class".</summary>
    public const int PCI_CLASS_DEVICE = 0x0A;
    public const int PCI_CACHE_LINE_SIZE = 0x0C;
    public const int PCI_LATENCY_TIMER = 0x0D;
    public const int PCI_HEADER_TYPE = 0x0E;
    public const int PCI_BASE_ADDRESS_0 = 0x10;
    public const int PCI_SUBSYSTEM_VENDOR_ID = 0x2C;
    public const int PCI_SUBSYSTEM_ID = 0x2E;
    public const int PCI_ROM_ADDRESS = 0x30;
    public const int PCI_CAPABILITY_LIST = 0x34;
    public const int PCI_INTERRUPT_LINE = 0x3C;
    public const int PCI_INTERRUPT_PIN = 0x3D;

    /// <summary>Capabilities start after the 64-byte header.</summary>
    public const int FirstCapabilityOffset = 0x40;

    // Command register bits the model lets the guest change; the rest are hardwired 0.
    public const ushort PCI_COMMAND_IO = 0x1;
    public const ushort PCI_COMMAND_MEMORY = 0x2;
    public const ushort PCI_COMMAND_MASTER = 0x4;
    public const ushort PCI_COMMAND_PARITY = 0x40;
    public const ushort PCI_COMMAND_SERR = 0x100;
    public const ushort PCI_COMMAND_INTX_DISABLE = 0x400;
    private const ushort CommandWritable = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER
        | PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE;

    public const ushort PCI_STATUS_INTERRUPT = 0x8;
    public const ushort PCI_STATUS_CAP_LIST = 0x10;
    // Error bits are write-1-to-clear (§6.2.3); the model never sets them, but a guest clearing them
    // must see the documented behaviour.
    public const ushort PCI_STATUS_PARITY = 0x100;
    public const ushort PCI_STATUS_SIG_TARGET_ABORT = 0x800;
    public const ushort PCI_STATUS_REC_TARGET_ABORT = 0x1000;
    public const ushort PCI_STATUS_REC_MASTER_ABORT = 0x2000;
    public const ushort PCI_STATUS_SIG_SYSTEM_ERROR = 0x4000;
    public const ushort PCI_STATUS_DETECTED_PARITY = 0x8000;
    private const ushort StatusWriteOneToClear = PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT | PCI_STATUS_REC_TARGET_ABORT
        | PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY;

    public const byte PCI_HEADER_TYPE_NORMAL = 0x00;

    // BAR low bits (§6.2.5.1).
    public const uint PCI_BASE_ADDRESS_SPACE_IO = 0x1;
    public const uint PCI_BASE_ADDRESS_MEM_TYPE_64 = 0x4;
    public const uint PCI_BASE_ADDRESS_MEM_PREFETCH = 0x8;
    public const uint PCI_BASE_ADDRESS_MEM_MASK = 0xFFFF_FFF0;
    public const uint PCI_BASE_ADDRESS_IO_MASK = 0xFFFF_FFFC;

    /// <summary>Number of BAR registers in a type-0 header.</summary>
    public const int PCI_STD_NUM_BARS = 6;

    /// <summary>Interrupt pin values: 0 = none, 1 = INTA# … 4 = INTD#.</summary>
    public const byte PCI_INTERRUPT_PIN_NONE = 0;
    public const byte PCI_INTERRUPT_PIN_INTA = 1;

    // Capability ids (PCI Code and ID Assignment Specification).
    public const byte PCI_CAP_ID_MSIX = 0x11;
    public const byte PCI_CAP_ID_VNDR = 0x09;
}
