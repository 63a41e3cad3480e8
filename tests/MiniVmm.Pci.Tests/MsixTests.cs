using MiniVmm.Pci;
using static MiniVmm.Pci.MsixCapability;

namespace MiniVmm.Pci.Tests;

/// <summary>MSI-X as Linux's pci_msix_enable drives it: enable + mask-all, program entries, unmask.</summary>
public sealed class MsixTests
{
    private const uint TableOffset = 0x4000, PbaOffset = 0x5000;
    private readonly PciConfigSpace _config = new(new PciIdentity(1, 2, 0xFF_00_00));
    private readonly MsixCapability _msix;
    private readonly FakeMsiController _controller = new();

    public MsixTests()
    {
        _msix = new MsixCapability(_config, vectorCount: 3, bar: 0, TableOffset, PbaOffset);
        _msix.Connect(_controller);
    }

    private void Control(ushort value) => _config.Write(_msix.CapabilityOffset + PCI_MSIX_FLAGS, BitConverter.GetBytes(value));

    private void WriteEntry(int vector, int field, uint value) =>
        _msix.Write(TableOffset + (ulong)(vector * PCI_MSIX_ENTRY_SIZE + field), BitConverter.GetBytes(value));

    private uint ReadEntry(int vector, int field)
    {
        Span<byte> data = stackalloc byte[4];
        _msix.Read(TableOffset + (ulong)(vector * PCI_MSIX_ENTRY_SIZE + field), data);
        return BitConverter.ToUInt32(data);
    }

    private ulong ReadPba()
    {
        Span<byte> data = stackalloc byte[8];
        _msix.Read(PbaOffset, data);
        return BitConverter.ToUInt64(data);
    }

    private void Program(int vector, uint addressLow, uint data)
    {
        WriteEntry(vector, PCI_MSIX_ENTRY_LOWER_ADDR, addressLow);
        WriteEntry(vector, PCI_MSIX_ENTRY_UPPER_ADDR, 0);
        WriteEntry(vector, PCI_MSIX_ENTRY_DATA, data);
    }

    [Fact]
    public void EntriesStartMaskedAndVectorControlHasOnlyTheMaskBit()
    {
        Assert.Equal(1u, ReadEntry(0, PCI_MSIX_ENTRY_VECTOR_CTRL));
        WriteEntry(1, PCI_MSIX_ENTRY_VECTOR_CTRL, 0xFFFF_FFFE);
        Assert.Equal(0u, ReadEntry(1, PCI_MSIX_ENTRY_VECTOR_CTRL));
        Program(2, 0xFEE0_1000, 0x4041);
        Assert.Equal(0xFEE0_1000u, ReadEntry(2, PCI_MSIX_ENTRY_LOWER_ADDR));
        Assert.Equal(0x4041u, ReadEntry(2, PCI_MSIX_ENTRY_DATA));
        Assert.Equal(new MsiMessage(0xFEE0_1000, 0x4041), _msix.GetMessage(2));
        Assert.True(_msix.Claims(0, TableOffset + 0x2C, 4));
        Assert.False(_msix.Claims(0, TableOffset + 0x30, 4));
        Assert.True(_msix.Claims(0, PbaOffset, 8));
        Assert.False(_msix.Claims(1, PbaOffset, 8));
    }

    [Fact]
    public void QwordWritesAndUnalignedAccesses()
    {
        _msix.Write(TableOffset, BitConverter.GetBytes(0x0000_0001_FEE0_0000UL));
        Assert.Equal(0x1_FEE0_0000UL, _msix.GetMessage(0).Address);
        _msix.Write(TableOffset + 2, BitConverter.GetBytes(0xFFFFu)); // not dword aligned: ignored
        _msix.Write(TableOffset + 8, new byte[] { 0x55 });             // byte write: ignored
        Assert.Equal(new MsiMessage(0x1_FEE0_0000, 0), _msix.GetMessage(0));
    }

    [Fact]
    public void NotifyWhileDisabledIsRefusedSoTheDeviceUsesIntx()
    {
        Assert.False(_msix.Notify(0));
        Assert.All(_controller.Vectors, v => Assert.Empty(v.Fired));
    }

    [Fact]
    public void LinuxEnableSequenceRoutesOnlyOnUnmask()
    {
        Control(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
        Program(0, 0xFEE0_0000, 0x40);
        Control(PCI_MSIX_FLAGS_ENABLE);
        var vector = _controller.Vectors[0];
        Assert.DoesNotContain(vector.Configured, c => c.Deliverable);
        WriteEntry(0, PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
        Assert.Equal((new MsiMessage(0xFEE0_0000, 0x40), true), vector.Configured[^1]);
        Assert.True(_msix.Notify(0));
        Assert.Equal([new MsiMessage(0xFEE0_0000, 0x40)], vector.Fired);
    }

    [Fact]
    public void MaskedVectorPendsAndFiresOnUnmask()
    {
        Control(PCI_MSIX_FLAGS_ENABLE);
        Program(1, 0xFEE0_0000, 0x41);
        Assert.True(_msix.Notify(1));
        Assert.True(_msix.IsPending(1));
        Assert.Equal(0b010UL, ReadPba());
        Assert.Empty(_controller.Vectors[1].Fired);

        WriteEntry(1, PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
        Assert.False(_msix.IsPending(1));
        Assert.Equal(0UL, ReadPba());
        Assert.Equal([new MsiMessage(0xFEE0_0000, 0x41)], _controller.Vectors[1].Fired);
    }

    [Fact]
    public void FunctionMaskPendsEveryVectorAndClearingItDelivers()
    {
        Control(PCI_MSIX_FLAGS_ENABLE);
        Program(0, 0xFEE0_0000, 0x40);
        Program(2, 0xFEE0_0000, 0x42);
        WriteEntry(0, PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
        WriteEntry(2, PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
        Control(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
        Assert.False(_controller.Vectors[0].Configured[^1].Deliverable);
        _msix.Notify(0);
        _msix.Notify(2);
        Assert.Equal(0b101UL, ReadPba());
        Control(PCI_MSIX_FLAGS_ENABLE);
        Assert.Single(_controller.Vectors[0].Fired);
        Assert.Single(_controller.Vectors[2].Fired);
        Assert.Equal(0UL, ReadPba());
    }

    [Fact]
    public void ReprogrammingAnUnmaskedVectorUpdatesItsRoute()
    {
        Control(PCI_MSIX_FLAGS_ENABLE);
        WriteEntry(0, PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
        Program(0, 0xFEE0_2000, 0x50);
        Assert.Equal((new MsiMessage(0xFEE0_2000, 0x50), true), _controller.Vectors[0].Configured[^1]);
        int before = _controller.Vectors[0].Configured.Count;
        Program(0, 0xFEE0_2000, 0x50); // same message: no new route
        Assert.Equal(before, _controller.Vectors[0].Configured.Count);
    }

    [Fact]
    public void DisablingMsixTearsDownRoutes()
    {
        Control(PCI_MSIX_FLAGS_ENABLE);
        Program(0, 0xFEE0_0000, 0x40);
        WriteEntry(0, PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
        Control(0);
        Assert.False(_controller.Vectors[0].Configured[^1].Deliverable);
        Assert.False(_msix.Enabled);
        Assert.False(_msix.Notify(0));
    }

    [Fact]
    public void PbaIsReadOnly()
    {
        Control(PCI_MSIX_FLAGS_ENABLE);
        _msix.Notify(2);
        _msix.Write(PbaOffset, BitConverter.GetBytes(0UL));
        Assert.Equal(0b100UL, ReadPba());
    }
}
