namespace MiniVmm.Machine.Bus;

/// <summary>
/// A device on the port-I/O or MMIO bus. Offsets are relative to the base the device was registered
/// at; <paramref name="data"/> is 1, 2, 4 or 8 bytes, little-endian, as the vCPU accessed it.
/// Implementations must tolerate any offset inside their range and any access size.
/// </summary>
public interface IBusDevice
{
    void Read(ulong offset, Span<byte> data);

    void Write(ulong offset, ReadOnlySpan<byte> data);
}

/// <summary>An interrupt line a device raises; the machine wires it to KVM (KVM_IRQ_LINE or an irqfd).</summary>
public interface IInterruptLine
{
    /// <summary>Sets the level of a level-triggered line.</summary>
    void SetLevel(bool asserted);
}
