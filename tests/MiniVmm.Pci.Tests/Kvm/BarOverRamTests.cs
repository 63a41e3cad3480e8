using MiniVmm.Kvm;
using MiniVmm.Machine.Bus;
using MiniVmm.Machine.Gpu;
using MiniVmm.Machine.Pci;
using MiniVmm.Memory;
using MiniVmm.Sys;

namespace MiniVmm.Pci.Tests.Kvm;

/// <summary>
/// Issue 11 item 7: the guest moves the 64-bit host-visible BAR over its RAM. The BAR then decodes nothing (no bus
/// range, no KVM slot) until it is moved back, and a placement KVM refuses is handled instead of throwing on the vCPU.
/// </summary>
public sealed class BarOverRamTests : IDisposable
{
    private const ulong RamSize = 1 << 20;
    private const ulong BarAddress = 1UL << 32;
    private readonly KvmSystem _kvm;
    private readonly KvmVm _vm;
    private readonly GuestMemory _ram = GuestMemory.CreateFlat(RamSize);

    public BarOverRamTests()
    {
        Assert.True(File.Exists(KvmSystem.DevicePath), "/dev/kvm is missing: these tests need KVM (the project's machines have it)");
        _kvm = KvmSystem.Open();
        _vm = _kvm.CreateVm();
        _vm.SetUserMemoryRegion(0, 0, RamSize, _ram.Regions[0].HostAddress);
    }

    public void Dispose()
    {
        _vm.Dispose();
        _kvm.Dispose();
        _ram.Dispose();
    }

    [Fact]
    public void ARegionMovedOverRamDecodesNothingUntilMovedBack()
    {
        var log = new List<string>();
        using var region = new KvmHostVisibleRegion(_vm, 1 << 20, firstSlot: 1, BarAddress, log.Add);
        using var blob = MappedMemfd.TryCreate("blob", 4096, out string? error);
        Assert.True(blob is not null, error);
        Assert.True(region.TryMap(0, 4096, blob.Fd, out error), error);

        Assert.Null(Record.Exception(() => region.MoveTo(0))); // over guest RAM: KVM says EEXIST
        Assert.Null(region.DecodingAt);
        Assert.Single(log);
        Assert.True(region.TryMap(0x2000, 4096, blob.Fd, out error), error); // still serves MAP_BLOB meanwhile

        region.MoveTo(BarAddress);
        Assert.Equal(BarAddress, region.DecodingAt);
        Assert.Equal(2, region.MappingCount);
    }

    [Fact]
    public void TheBusRefusesABarOverRam()
    {
        var space = new IoBusAddressSpace(new IoBus("MMIO"), _vm, pio: false, [(0, RamSize)]);
        Assert.False(space.TryMap(RamSize - 4096, 1 << 20, new NullRegion()));
        Assert.True(space.TryMap(BarAddress, 1 << 20, new NullRegion()));
    }

    private sealed class NullRegion : IPciRegion
    {
        public void Read(ulong offset, Span<byte> data) => data.Fill(0xFF);

        public void Write(ulong offset, ReadOnlySpan<byte> data)
        {
        }
    }
}
