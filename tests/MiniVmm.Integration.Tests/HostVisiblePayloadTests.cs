using MiniVmm.Gpu;
using MiniVmm.Gpu.Backend;
using MiniVmm.Kvm;
using MiniVmm.Machine.Gpu;

namespace MiniVmm.Integration.Tests;

/// <summary>
/// The KVM host-visible region on real /dev/kvm: blob memfds become memory slots at BAR base + offset, are
/// removed on unmap, follow the BAR when it moves, and a bad placement is an error value, not a crash.
/// (A guest payload that reads and writes through the BAR needs the GPU wired into the payload machine: next slice.)
/// </summary>
public sealed class HostVisiblePayloadTests : IDisposable
{
    private const ulong Bar = 0x10_0000_0000;
    private readonly KvmSystem _kvm = KvmSystem.Open();
    private readonly KvmVm _vm;
    private readonly List<HostBlobMemory> _blobs = [];

    public HostVisiblePayloadTests() => _vm = _kvm.CreateVm();

    public void Dispose()
    {
        foreach (var blob in _blobs)
            blob.Dispose();
        _vm.Dispose();
        _kvm.Dispose();
    }

    private HostBlobMemory Blob(ulong size)
    {
        var blob = HostBlobMemory.TryCreate("test-blob", size, out string? error) ?? throw new InvalidOperationException(error);
        _blobs.Add(blob);
        return blob;
    }

    [Fact]
    public void MapUnmapAndReuseSlots()
    {
        using var region = new KvmHostVisibleRegion(_vm, 1 << 20, firstSlot: 2, Bar);
        Assert.True(region.TryMap(0, 0x2000, Blob(0x2000).Fd, out string? error), error);
        Assert.True(region.TryMap(0x2000, 0x1000, Blob(0x1000).Fd, out error), error);
        Assert.Equal(2, region.MappingCount);
        region.Unmap(0);
        Assert.True(region.TryMap(0x4000, 0x1000, Blob(0x1000).Fd, out error), error); // reuses the freed slot
        Assert.Equal(2, region.MappingCount);
    }

    [Fact]
    public void RangesOutsideTheRegionAreRefused()
    {
        using var region = new KvmHostVisibleRegion(_vm, 1 << 20, firstSlot: 2, Bar);
        var blob = Blob(0x1000);
        Assert.False(region.TryMap(1 << 20, 0x1000, blob.Fd, out _));
        Assert.False(region.TryMap(0x800, 0x1000, blob.Fd, out _));
        Assert.True(region.TryMap(0, 0x1000, blob.Fd, out _));
        Assert.False(region.TryMap(0, 0x1000, blob.Fd, out string? error));
        Assert.Contains("mapped already", error, StringComparison.Ordinal);
    }

    [Fact]
    public void OverlappingRamIsAnErrorValue()
    {
        var ram = Blob(0x10000);
        using var ramRegion = new KvmHostVisibleRegion(_vm, 0x10000, firstSlot: 0, baseAddress: 0);
        Assert.True(ramRegion.TryMap(0, 0x10000, ram.Fd, out string? error), error);
        using var region = new KvmHostVisibleRegion(_vm, 1 << 20, firstSlot: 2, baseAddress: 0x8000);
        Assert.False(region.TryMap(0, 0x1000, Blob(0x1000).Fd, out error)); // KVM refuses overlapping slots
        Assert.Contains("KVM_SET_USER_MEMORY_REGION", error, StringComparison.Ordinal);
        Assert.Equal(0, region.MappingCount);
    }

    [Fact]
    public void MappingsFollowTheBar()
    {
        using var region = new KvmHostVisibleRegion(_vm, 1 << 20, firstSlot: 2, baseAddress: null);
        Assert.True(region.TryMap(0, 0x1000, Blob(0x1000).Fd, out string? error), error); // kept until the BAR decodes
        region.MoveTo(Bar);
        region.MoveTo(Bar + (1 << 20));
        region.MoveTo(null);
        region.MoveTo(Bar);
        region.Unmap(0);
        Assert.Equal(0, region.MappingCount);
    }

    [Fact]
    public void DeviceMapsThroughTheKvmRegion()
    {
        using var region = new KvmHostVisibleRegion(_vm, 1 << 20, firstSlot: 2, Bar);
        var backend = new Gpu2DBackend(new GpuOptions { Blob = true, Contexts = true, HostMemoryBytes = 1 << 20 }, region: region);
        Assert.False(backend.CreateContext(1, 5, "test").IsError);
        Assert.False(backend.CreateBlob(null!, 1, 2, 2, 1, 0, 0x3000, []).IsError);
        Assert.Equal(MiniVmm.Gpu.Protocol.VirtioGpuCtrlType.RESP_OK_MAP_INFO, backend.MapBlob(2, 0x1000).Type);
        Assert.Equal(1, region.MappingCount);
        Assert.False(backend.UnrefResource(2).IsError);
        Assert.Equal(0, region.MappingCount);
    }
}
