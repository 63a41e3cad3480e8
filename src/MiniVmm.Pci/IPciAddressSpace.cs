namespace MiniVmm.Pci;

/// <summary>A range the guest can access in an address space: offsets are relative to where it is mapped.</summary>
public interface IPciRegion
{
    void Read(ulong offset, Span<byte> data);

    void Write(ulong offset, ReadOnlySpan<byte> data);
}

/// <summary>
/// An address space BARs are mapped into (guest MMIO or port I/O). The machine implements it over its
/// I/O buses and KVM; tests implement it with a dictionary. Keeping it an interface keeps this project
/// free of the machine layer.
/// </summary>
public interface IPciAddressSpace
{
    /// <summary>Routes [address, address + length) to <paramref name="region"/>; false when the range is taken or wraps.</summary>
    bool TryMap(ulong address, ulong length, IPciRegion region);

    /// <summary>Removes every range routed to <paramref name="region"/>.</summary>
    void Unmap(IPciRegion region);

    /// <summary>
    /// Makes guest writes of <paramref name="length"/> bytes at <paramref name="address"/> signal the
    /// eventfd <paramref name="eventFd"/> without a trip through the VMM (KVM_IOEVENTFD). False when
    /// the space cannot do that; the write then reaches the mapped region as usual.
    /// </summary>
    bool TryAddIoEvent(int eventFd, ulong address, uint length);

    /// <summary>Undoes <see cref="TryAddIoEvent"/> with the same arguments.</summary>
    void RemoveIoEvent(int eventFd, ulong address, uint length);
}
