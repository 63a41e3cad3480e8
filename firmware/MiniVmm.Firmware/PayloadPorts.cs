namespace MiniVmm.Firmware;

/// <summary>The machine interface payloads rely on; mirrors MiniVmm's legacy device layout.</summary>
public static class PayloadPorts
{
    public const ushort Com1 = 0x3F8;
    public const ushort Com1LineStatus = Com1 + 5;
    public const byte LineStatusTransmitEmpty = 0x20;
    public const ushort DebugExit = 0x501;
    public const ushort PostCode = 0x80;
    /// <summary>An address inside the 32-bit MMIO hole that no device claims.</summary>
    public const ulong UnclaimedMmio = 0xD000_0000;
    public const ulong LapicBase = 0xFEE0_0000;

    public const ulong CodeAddress = 0x20_0000;
    public const ulong DataAddress = 0x30_0000;
    public const ulong DataSize = 0x1_0000;
    /// <summary>Real-mode start page for application processors (SIPI vector 0x10): free below 1 MiB.</summary>
    public const ulong ApTrampolineAddress = 0x1_0000;
}
