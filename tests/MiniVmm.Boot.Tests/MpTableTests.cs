using System.Buffers.Binary;
using MiniVmm.Memory;

namespace MiniVmm.Boot.Tests;

public sealed class MpTableTests
{
    private const ulong Address = BootLayout.MpTable;

    private static int Sum(ReadOnlySpan<byte> bytes)
    {
        int sum = 0;
        foreach (byte b in bytes)
            sum += b;
        return sum & 0xFF;
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 0)]
    [InlineData(4, 3)]
    [InlineData(64, 8)]
    [InlineData(254, 0)]
    public void ChecksumsCountsAndEntries(int cpus, int pciRoutes)
    {
        var routes = Enumerable.Range(0, pciRoutes).Select(i => new PciInterruptRoute((byte)(i + 1), (byte)(i % 4), (byte)(16 + (i % 8)))).ToArray();
        var bytes = MpTable.Build(cpus, Address, routes);

        // Floating pointer: "_MP_", points right behind itself, 16 bytes summing to 0.
        Assert.Equal("_MP_"u8.ToArray(), bytes[..4]);
        Assert.Equal((uint)Address + 16, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(1, bytes[8]);
        Assert.Equal(4, bytes[9]);
        Assert.Equal(0, Sum(bytes.AsSpan(0, 16)));

        var table = bytes.AsSpan(16);
        Assert.Equal("PCMP"u8.ToArray(), table[..4].ToArray());
        int length = BinaryPrimitives.ReadUInt16LittleEndian(table[4..]);
        Assert.Equal(table.Length, length);
        Assert.Equal(0, Sum(table[..length]));
        int count = BinaryPrimitives.ReadUInt16LittleEndian(table[34..]);
        Assert.Equal(cpus + 2 + 1 + 16 + pciRoutes + 2, count);
        Assert.Equal(0xFEE0_0000u, BinaryPrimitives.ReadUInt32LittleEndian(table[36..]));

        // Walk the entries the way Linux's smp_read_mpc does.
        int offset = 44;
        int processors = 0, ioapics = 0, isa = 0, pci = 0, lints = 0;
        var buses = new Dictionary<byte, string>();
        for (int i = 0; i < count; i++)
        {
            var entry = table[offset..];
            switch (entry[0])
            {
                case MpSpec.Processor:
                    Assert.Equal(processors, entry[1]);
                    Assert.Equal(processors == 0 ? 3 : 1, entry[3]); // enabled, BSP only on CPU 0
                    processors++;
                    offset += 20;
                    continue;
                case MpSpec.Bus:
                    buses[entry[1]] = System.Text.Encoding.ASCII.GetString(entry.Slice(2, 6));
                    break;
                case MpSpec.IoApic:
                    Assert.Equal(cpus, entry[1]);
                    Assert.Equal(0x11, entry[2]);
                    Assert.Equal(1, entry[3]);
                    Assert.Equal(0xFEC0_0000u, BinaryPrimitives.ReadUInt32LittleEndian(entry[4..]));
                    ioapics++;
                    break;
                case MpSpec.IntSrc:
                    Assert.Equal(cpus, entry[6]);
                    if (entry[4] == MpTable.IsaBusId)
                    {
                        Assert.Equal(isa, entry[5]);
                        Assert.Equal(isa, entry[7]); // identity: KVM's default routing sends GSI n to IOAPIC pin n
                        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(entry[2..]));
                        isa++;
                    }
                    else
                    {
                        Assert.Equal(MpTable.PciBusId, entry[4]);
                        var route = routes[pci++];
                        Assert.Equal((route.Device << 2) | route.Pin, entry[5]);
                        Assert.Equal(route.IoApicPin, entry[7]);
                        Assert.Equal(0x0F, BinaryPrimitives.ReadUInt16LittleEndian(entry[2..]));
                    }
                    break;
                case MpSpec.LintSrc:
                    Assert.Equal(lints == 0 ? MpSpec.IrqExtInt : MpSpec.IrqNmi, entry[1]);
                    Assert.Equal(lints, entry[7]);
                    lints++;
                    break;
                default:
                    Assert.Fail($"unknown entry type {entry[0]} at {offset}");
                    break;
            }
            offset += 8;
        }
        Assert.Equal(length, offset);
        Assert.Equal((cpus, 1, 16, pciRoutes, 2), (processors, ioapics, isa, pci, lints));
        Assert.Equal("PCI   ", buses[0]);
        Assert.Equal("ISA   ", buses[1]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(255)]
    [InlineData(1000)]
    public void CpuCountOutOfRange(int cpus)
    {
        var e = Assert.Throws<BootException>(() => MpTable.Build(cpus, Address));
        Assert.Contains("254", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadPciRouteIsRefused() =>
        Assert.Throws<BootException>(() => MpTable.Build(1, Address, [new PciInterruptRoute(32, 0, 16)]));

    [Fact]
    public void WriteFitsInTheReservedArea()
    {
        using var memory = GuestMemory.CreateFlat(4 << 20);
        var range = MpTable.Write(memory, MpTable.MaxCpus);
        Assert.Equal(BootLayout.MpTable, range.Start);
        Assert.True(range.End <= BootLayout.HighMemory);
        Span<byte> signature = stackalloc byte[4];
        memory.Read(new GuestAddress(BootLayout.MpTable), signature);
        Assert.Equal("_MP_"u8.ToArray(), signature.ToArray());
    }
}
