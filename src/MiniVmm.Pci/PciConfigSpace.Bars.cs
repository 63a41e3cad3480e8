namespace MiniVmm.Pci;

// BAR registers. The guest programs them; the bus reads them back after every config write to decide
// what to map, so nothing here keeps a second copy of an address that could drift from the register.
public sealed partial class PciConfigSpace
{
    // Fixed before the guest runs.
    private readonly PciBarDefinition?[] _bars = new PciBarDefinition?[PCI_STD_NUM_BARS];

    /// <summary>The BARs declared so far, by index (a 64-bit BAR appears once, at its low register).</summary>
    public IEnumerable<PciBarDefinition> Bars => _bars.OfType<PciBarDefinition>();

    public PciBarDefinition? GetBar(int index) => index is >= 0 and < PCI_STD_NUM_BARS ? _bars[index] : null;

    /// <summary>Declares a BAR: its flags become read-only and only its address bits writable. Address 0 = unassigned.</summary>
    public void DeclareBar(PciBarDefinition bar)
    {
        ArgumentNullException.ThrowIfNull(bar);
        int registers = bar.Kind == PciBarKind.Memory64 ? 2 : 1;
        for (int i = bar.Index; i < bar.Index + registers; i++)
        {
            if (_bars[i] is not null || (i > 0 && _bars[i - 1]?.Kind == PciBarKind.Memory64))
                throw new InvalidOperationException($"BAR register {i} is already in use");
        }
        _bars[bar.Index] = bar;
        SetRegister(BarRegister(bar.Index), 4, bar.Flags, writable: (uint)bar.AddressMask);
        if (registers == 2)
            SetRegister(BarRegister(bar.Index + 1), 4, 0, writable: (uint)(bar.AddressMask >> 32));
    }

    /// <summary>VMM-side: programs a BAR's address, as firmware would before the OS starts.</summary>
    public void SetBarAddress(int index, ulong address)
    {
        var bar = _bars[index] ?? throw new InvalidOperationException($"BAR {index} is not declared");
        if ((address & ~bar.AddressMask) != 0)
            throw new ArgumentException($"address 0x{address:x} is not a valid, size-aligned address for BAR {index} (size 0x{bar.Size:x})", nameof(address));
        SetValue(BarRegister(index), 4, (uint)address | bar.Flags);
        if (bar.Kind == PciBarKind.Memory64)
            SetValue(BarRegister(index + 1), 4, (uint)(address >> 32));
    }

    /// <summary>The address currently in the BAR's register(s), with the flag bits stripped.</summary>
    public ulong GetBarAddress(int index)
    {
        var bar = _bars[index] ?? throw new InvalidOperationException($"BAR {index} is not declared");
        ulong address = ReadDword(BarRegister(index));
        if (bar.Kind == PciBarKind.Memory64)
            address |= (ulong)ReadDword(BarRegister(index + 1)) << 32;
        return address & bar.AddressMask;
    }

    /// <summary>Whether the command register enables decoding of this BAR's space.</summary>
    public bool IsDecoding(PciBarDefinition bar)
    {
        ArgumentNullException.ThrowIfNull(bar);
        ushort command = ReadWord(PCI_COMMAND);
        return (command & (bar.IsIo ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)) != 0;
    }

    public static int BarRegister(int index) => PCI_BASE_ADDRESS_0 + (4 * index);
}
