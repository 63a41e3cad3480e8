namespace MiniVmm.Pci;

/// <summary>
/// The host bridge at 00:00.0. It does nothing but exist: Linux without ACPI only trusts conf1 when
/// bus 0 holds a function of class 0x0600 (host bridge) or 0x0300 (VGA), or an Intel/Compaq vendor id
/// (arch/x86/pci/direct.c pci_sanity_check). This one satisfies the first two tests. Device id 0x0D57
/// is the Intel id Firecracker's root uses; Linux has no quirk for it.
/// </summary>
public sealed class PciHostBridge : IPciDevice
{
    public const ushort PCI_VENDOR_ID_INTEL = 0x8086;
    public const ushort DeviceId = 0x0D57;
    /// <summary>PCI_CLASS_BRIDGE_HOST (0x0600) with programming interface 0.</summary>
    public const uint PCI_CLASS_BRIDGE_HOST = 0x06_00_00;

    public PciConfigSpace Config { get; } = new(new PciIdentity(PCI_VENDOR_ID_INTEL, DeviceId, PCI_CLASS_BRIDGE_HOST));

    public void Attach(PciDeviceContext context)
    {
    }

    public void ReadBar(int index, ulong offset, Span<byte> data) => data.Fill(0xFF);

    public void WriteBar(int index, ulong offset, ReadOnlySpan<byte> data)
    {
    }

    public void BarMoved(int index, ulong? address)
    {
    }
}
