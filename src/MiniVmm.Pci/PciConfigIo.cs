using System.Buffers.Binary;

namespace MiniVmm.Pci;

/// <summary>
/// Configuration mechanism #1 (PCI 3.0 §3.2.2.3.2): ports 0xCF8-0xCFB hold CONFIG_ADDRESS, 0xCFC-0xCFF
/// are the data window onto the selected dword. Only a full dword access at 0xCF8 touches the address
/// register (others are "normal I/O" that nothing claims: reads all ones, writes dropped), which is
/// what Linux's probe relies on: it writes a byte to 0xCFB, then expects a dword 0x80000000 written
/// to 0xCF8 to read back unchanged. Register it at <see cref="ConfigAddressPort"/> for
/// <see cref="PortCount"/> ports. Thread-safety: <see cref="_lock"/> guards <see cref="_address"/>;
/// guests serialize the address/data pair themselves (Linux's pci_config_lock).
/// </summary>
public sealed class PciConfigIo(PciBus bus) : IPciRegion
{
    public const ushort ConfigAddressPort = 0xCF8;
    public const ushort ConfigDataPort = 0xCFC;
    public const int PortCount = 8;

    public const uint EnableBit = 0x8000_0000;
    // Enable, bus [23:16], device [15:11], function [10:8], register [7:2]; bits 30:24 and 1:0 read 0.
    private const uint AddressMask = EnableBit | 0x00FF_FFFC;
    private const int DataOffset = ConfigDataPort - ConfigAddressPort;

    private readonly Lock _lock = new();
    private uint _address;

    public void Read(ulong offset, Span<byte> data)
    {
        if (offset == 0 && data.Length == 4)
        {
            lock (_lock)
                BinaryPrimitives.WriteUInt32LittleEndian(data, _address);
        }
        else if (offset >= DataOffset && Decode(offset, data.Length) is { } target)
        {
            bus.ReadConfig(target.Address, target.Register, data);
        }
        else
        {
            data.Fill(0xFF);
        }
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        if (offset == 0 && data.Length == 4)
        {
            lock (_lock)
                _address = BinaryPrimitives.ReadUInt32LittleEndian(data) & AddressMask;
        }
        else if (offset >= DataOffset && Decode(offset, data.Length) is { } target)
        {
            bus.WriteConfig(target.Address, target.Register, data);
        }
    }

    /// <summary>The function and register a data-port access reaches; null when the address register is disabled.</summary>
    private (PciAddress Address, int Register)? Decode(ulong offset, int length)
    {
        uint address;
        lock (_lock)
            address = _address;
        int lane = (int)(offset - DataOffset);
        if ((address & EnableBit) == 0 || lane + length > 4)
            return null;
        var function = new PciAddress((byte)(address >> 16), (byte)((address >> 11) & 0x1F), (byte)((address >> 8) & 0x7));
        return (function, (int)(address & 0xFC) + lane);
    }
}
