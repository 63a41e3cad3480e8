namespace MiniVmm.Input;

/// <summary>One evdev event as virtio-input carries it (struct virtio_input_event: le16 type, le16 code, le32 value).</summary>
public readonly record struct InputEvent(ushort Type, ushort Code, uint Value)
{
    public const int Size = 8;
    public static InputEvent Sync => new(EventTypes.Syn, 0, 0);
}

/// <summary>Linux input event types and codes used here (include/uapi/linux/input-event-codes.h).</summary>
public static class EventTypes
{
    public const ushort Syn = 0x00, Key = 0x01, Rel = 0x02, Abs = 0x03, Led = 0x11, Rep = 0x14;
}

public static class InputCodes
{
    /// <summary>KEY_ESC .. KEY_MICMUTE: what a PC keyboard and its media keys send.</summary>
    public const ushort FirstKey = 1, LastKey = 248;
    public const ushort ButtonLeft = 0x110, ButtonRight = 0x111, ButtonMiddle = 0x112, ButtonSide = 0x113, ButtonExtra = 0x114;
    public const ushort AbsX = 0x00, AbsY = 0x01;
    public const ushort RelWheel = 0x08, RelHorizontalWheel = 0x06;
    public const ushort LedNumLock = 0x00, LedCapsLock = 0x01, LedScrollLock = 0x02;
    /// <summary>BUS_VIRTUAL in struct input_id.</summary>
    public const ushort BusVirtual = 0x06;
    /// <summary>The tablet's axes run 0..AbsMax whatever the window's size (as QEMU's tablet does), scaled from it.</summary>
    public const uint AbsMax = 0x7FFF;
}

/// <summary>virtio_input_config select values (virtio spec, "Input Device": Device configuration layout).</summary>
public static class ConfigSelect
{
    public const byte Unset = 0x00, IdName = 0x01, IdSerial = 0x02, IdDevids = 0x03, PropBits = 0x10, EvBits = 0x11, AbsInfo = 0x12;
}
