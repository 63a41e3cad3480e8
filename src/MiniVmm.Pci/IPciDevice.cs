namespace MiniVmm.Pci;

/// <summary>
/// A PCI function on <see cref="PciBus"/>. The bus owns config-space dispatch and BAR mapping; the
/// device owns its register model. Threading: every method is called from vCPU threads, serialized by
/// the bus lock, except that BAR accesses (<see cref="ReadBar"/>/<see cref="WriteBar"/>) come straight
/// from the vCPU that trapped, unserialized: the device guards its own BAR state.
/// </summary>
public interface IPciDevice
{
    /// <summary>The function's config space: identity, BARs and capabilities are declared before <see cref="Attach"/>.</summary>
    PciConfigSpace Config { get; }

    /// <summary>Called once when the device is placed on the bus, after its BARs got their addresses.</summary>
    void Attach(PciDeviceContext context);

    void ReadBar(int index, ulong offset, Span<byte> data);

    void WriteBar(int index, ulong offset, ReadOnlySpan<byte> data);

    /// <summary>
    /// A BAR started or stopped decoding, or moved: <paramref name="address"/> is where the bus now
    /// routes it, null when it routes nothing (decoding off, unassigned or clashing). Devices move their
    /// ioeventfds and memory slots here.
    /// </summary>
    void BarMoved(int index, ulong? address);
}

/// <summary>Bus, device and function numbers of a config-space address.</summary>
public readonly record struct PciAddress(byte Bus, byte Device, byte Function)
{
    public override string ToString() => $"{Bus:x2}:{Device:x2}.{Function}";
}

/// <summary>What the bus gives a device when it is attached.</summary>
public sealed record PciDeviceContext
{
    public required PciAddress Address { get; init; }

    /// <summary>The device's INTx line when its interrupt pin register is nonzero, else null.</summary>
    public IPciInterruptLine? Intx { get; init; }

    /// <summary>The GSI (IOAPIC input) the INTx line drives, when there is one.</summary>
    public byte? IntxGsi { get; init; }

    /// <summary>Creates MSI/MSI-X vectors that deliver to the guest.</summary>
    public required IMsiController Msi { get; init; }

    /// <summary>The guest-physical memory space the device's memory BARs live in.</summary>
    public required IPciAddressSpace Memory { get; init; }

    /// <summary>The port I/O space the device's I/O BARs live in.</summary>
    public required IPciAddressSpace Io { get; init; }
}

/// <summary>A level-triggered INTx wire to the interrupt controller.</summary>
public interface IPciInterruptLine
{
    void SetLevel(bool asserted);
}
