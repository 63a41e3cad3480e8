using MiniVmm.Pci;

namespace MiniVmm.Pci.Tests;

/// <summary>An address space that records what is mapped where, and dispatches guest accesses like a bus.</summary>
internal sealed class FakeAddressSpace(bool ioEvents = false) : IPciAddressSpace
{
    private readonly Dictionary<IPciRegion, (ulong Address, ulong Length)> _mapped = [];

    public List<(int Fd, ulong Address, uint Length)> IoEvents { get; } = [];

    public IReadOnlyCollection<(ulong Address, ulong Length)> Ranges => _mapped.Values;

    public bool TryMap(ulong address, ulong length, IPciRegion region)
    {
        if (_mapped.Values.Any(r => address < r.Address + r.Length && r.Address < address + length))
            return false;
        _mapped.Add(region, (address, length));
        return true;
    }

    public void Unmap(IPciRegion region) => _mapped.Remove(region);

    public bool TryAddIoEvent(int eventFd, ulong address, uint length)
    {
        if (!ioEvents)
            return false;
        IoEvents.Add((eventFd, address, length));
        return true;
    }

    public void RemoveIoEvent(int eventFd, ulong address, uint length) => IoEvents.Remove((eventFd, address, length));

    public uint Read32(ulong address)
    {
        byte[] data = new byte[4];
        Access(address, 4, (region, offset) => region.Read(offset, data));
        return BitConverter.ToUInt32(data);
    }

    public void Write32(ulong address, uint value)
    {
        byte[] data = BitConverter.GetBytes(value);
        Access(address, 4, (region, offset) => region.Write(offset, data));
    }

    private void Access(ulong address, int length, Action<IPciRegion, ulong> access)
    {
        foreach (var (region, range) in _mapped)
        {
            if (address >= range.Address && address + (ulong)length <= range.Address + range.Length)
            {
                access(region, address - range.Address);
                return;
            }
        }
        throw new InvalidOperationException($"nothing mapped at 0x{address:x}");
    }
}

/// <summary>Vectors that record every route change and delivery.</summary>
internal sealed class FakeMsiController : IMsiController
{
    public List<FakeMsiVector> Vectors { get; } = [];

    public IMsiVector CreateVector()
    {
        var vector = new FakeMsiVector();
        Vectors.Add(vector);
        return vector;
    }
}

internal sealed class FakeMsiVector : IMsiVector
{
    public List<(MsiMessage Message, bool Deliverable)> Configured { get; } = [];
    public List<MsiMessage> Fired { get; } = [];

    public void Configure(MsiMessage message, bool deliverable) => Configured.Add((message, deliverable));

    public void Fire(MsiMessage message) => Fired.Add(message);
}

internal sealed class FakeIntxLine : IPciInterruptLine
{
    public List<bool> Levels { get; } = [];

    public void SetLevel(bool asserted) => Levels.Add(asserted);
}

/// <summary>A device with configurable BARs that records accesses and BarMoved calls.</summary>
internal sealed class FakePciDevice : IPciDevice
{
    public FakePciDevice(params PciBarDefinition[] bars)
    {
        Config = new PciConfigSpace(new PciIdentity(0x1234, 0x5678, 0xFF_00_00));
        foreach (var bar in bars)
            Config.DeclareBar(bar);
    }

    public PciConfigSpace Config { get; }
    public PciDeviceContext? Context { get; private set; }
    public List<(int Index, ulong? Address)> Moves { get; } = [];
    public List<(int Index, ulong Offset, uint Value)> Writes { get; } = [];

    public void Attach(PciDeviceContext context) => Context = context;

    public void ReadBar(int index, ulong offset, Span<byte> data) => BitConverter.TryWriteBytes(data, (uint)(0xB0_0000 + (index << 16) + (int)offset));

    public void WriteBar(int index, ulong offset, ReadOnlySpan<byte> data) => Writes.Add((index, offset, BitConverter.ToUInt32(data)));

    public void BarMoved(int index, ulong? address) => Moves.Add((index, address));
}

internal static class TestPlatform
{
    public static (PciBus Bus, FakeAddressSpace Memory, FakeAddressSpace Io, FakeMsiController Msi, Dictionary<byte, FakeIntxLine> Lines) Create()
    {
        var memory = new FakeAddressSpace();
        var io = new FakeAddressSpace();
        var msi = new FakeMsiController();
        var lines = new Dictionary<byte, FakeIntxLine>();
        var bus = new PciBus(new PciPlatform
        {
            Memory = memory,
            Io = io,
            Msi = msi,
            Allocator = new PciBarAllocator(PciBarAllocator.DefaultMmio32, new PciWindow(0x10_0000_0000, 0x4000_0000_0000), PciBarAllocator.DefaultIo),
            IntxLine = gsi => lines[gsi] = new FakeIntxLine(),
        });
        return (bus, memory, io, msi, lines);
    }

    public static uint ReadConfig32(this PciBus bus, PciAddress address, int register)
    {
        Span<byte> data = stackalloc byte[4];
        bus.ReadConfig(address, register, data);
        return BitConverter.ToUInt32(data);
    }

    public static void WriteConfig32(this PciBus bus, PciAddress address, int register, uint value) =>
        bus.WriteConfig(address, register, BitConverter.GetBytes(value));

    public static void WriteConfig16(this PciBus bus, PciAddress address, int register, ushort value) =>
        bus.WriteConfig(address, register, BitConverter.GetBytes(value));
}
