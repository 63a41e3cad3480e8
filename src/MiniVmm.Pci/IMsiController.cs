namespace MiniVmm.Pci;

/// <summary>An MSI message as the guest wrote it into a table entry; the VMM forwards it verbatim.</summary>
public readonly record struct MsiMessage(ulong Address, uint Data)
{
    public uint AddressLow => (uint)Address;
    public uint AddressHigh => (uint)(Address >> 32);

    public override string ToString() => $"MSI 0x{Address:x} data 0x{Data:x}";
}

/// <summary>
/// One interrupt vector's path into the guest (the machine: a GSI route plus an irqfd). The MSI-X model
/// decides when a vector fires; this only delivers. Both methods are called with the MSI-X table lock
/// held, so they must not call back into the table.
/// </summary>
public interface IMsiVector
{
    /// <summary>
    /// The message changed or the vector became (un)deliverable (masked, function-masked or MSI-X
    /// disabled). While not deliverable the route may be torn down; <see cref="Fire"/> is not called.
    /// </summary>
    void Configure(MsiMessage message, bool deliverable);

    /// <summary>Delivers one interrupt with <paramref name="message"/> (the last one configured as deliverable).</summary>
    void Fire(MsiMessage message);
}

/// <summary>Hands out vectors for a device's MSI-X table.</summary>
public interface IMsiController
{
    IMsiVector CreateVector();
}
