namespace MiniVmm.Machine.Devices;

/// <summary>
/// Where a UART's transmitted bytes go. The register model calls it on the vCPU thread that wrote THR,
/// outside the UART's lock, one byte per call (each byte the guest sends is one port-I/O exit anyway),
/// so an implementation should only copy the byte somewhere and return.
/// </summary>
public interface ISerialOutput
{
    void Write(ReadOnlySpan<byte> data);
}
