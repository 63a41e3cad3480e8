using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using MiniVmm.Boot;
using MiniVmm.Firmware;
using MiniVmm.Gpu;
using MiniVmm.Gpu.Backend;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Kvm;
using MiniVmm.Machine.Gpu;
using MiniVmm.Memory;
using MiniVmm.Pci;
using MiniVmm.Sys;
using MiniVmm.Virtio.Transport;

namespace MiniVmm.Integration.Tests;

/// <summary>
/// The KVM host-visible region on real /dev/kvm: blob memfds become memory slots at BAR base + offset, are
/// removed on unmap, follow the BAR when it moves, and a bad placement is an error value, not a crash; and a guest
/// payload that maps a blob over controlq and reads and writes it through the shared-memory BAR.
/// </summary>
public sealed unsafe class HostVisiblePayloadTests : IDisposable
{
    private const ulong Bar = 0x10_0000_0000;
    private readonly KvmSystem _kvm = KvmSystem.Open(KvmAvailability.Device);
    private readonly KvmVm _vm;
    private readonly List<MappedMemfd> _blobs = [];

    public HostVisiblePayloadTests() => _vm = _kvm.CreateVm();

    public void Dispose()
    {
        foreach (var blob in _blobs)
            blob.Dispose();
        _vm.Dispose();
        _kvm.Dispose();
    }

    private MappedMemfd Blob(ulong size)
    {
        var blob = MappedMemfd.TryCreate("test-blob", size, out string? error) ?? throw new InvalidOperationException(error);
        _blobs.Add(blob);
        return blob;
    }

    [KvmFact]
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

    [KvmFact]
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

    [KvmFact]
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

    [KvmFact]
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

    [KvmFact]
    public void DeviceMapsThroughTheKvmRegion()
    {
        using var region = new KvmHostVisibleRegion(_vm, 1 << 20, firstSlot: 2, Bar);
        var backend = new VirtioGpuBackend(new GpuOptions { Blob = true, Contexts = true, HostMemoryBytes = 1 << 20 }, region: region);
        Assert.False(backend.CreateContext(1, 0, "test").IsError); // plain context: a HOST3D blob of fresh pages
        Assert.False(backend.CreateBlob(null!, 1, 2, 2, 1, 0, 0x3000, []).IsError);
        Assert.Equal(MiniVmm.Gpu.Protocol.VirtioGpuCtrlType.RESP_OK_MAP_INFO, backend.MapBlob(2, 0x1000).Type);
        Assert.Equal(1, region.MappingCount);
        Assert.False(backend.UnrefResource(2).IsError);
        Assert.Equal(0, region.MappingCount);
    }

    private const ulong HostMemory = 1 << 20, BlobOffset = 0x1_0000;
    private const uint BlobSize = 0x1_0000, HostPattern = 0x5EED_F00D, GuestPattern = 0xC0FF_EE42;

    /// <summary>
    /// With no blob mapped the BAR range is MMIO that VirtioPciDevice.ReadBar answers with zeros (not the
    /// all-ones of an address no device claims): the point is that the read exits to the VMM and the VM runs on.
    /// </summary>
    private const uint UnmappedRead = 0xFFFF_FFFF; // an unmapped hole in the BAR reads as nothing decoding it

    [KvmFact]
    public void GuestAndHostShareAMappedBlobAndUnmapFaultsCleanly()
    {
        RecordingRegion? recorder = null;
        var payload = HostVisiblePayloads.MapWriteUnmap(BlobOffset, BlobSize, HostPattern, GuestPattern, UnmappedRead);
        var result = PciMachineRunner.Run(KernelImage.Parse(payload, "hostmem-payload"), machine =>
        {
            var region = new KvmHostVisibleRegion(machine.Kvm, HostMemory, firstSlot: (uint)machine.Memory.Regions.Count);
            recorder = new RecordingRegion(region, HostPattern);
            var device = new VirtioGpuDevice(new GpuOptions { Blob = true, Contexts = true, HostMemoryBytes = HostMemory }, region: recorder);
            return new PciMachineRunner.DeviceSetup(device,
                new VirtioPciOptions { SharedMemory = new VirtioSharedMemoryRegion(1, HostMemory) }, // VIRTIO_GPU_SHM_ID_HOST_VISIBLE
                transport =>
                {
                    transport.SharedMemoryMoved += region.MoveTo; // as LinuxMachine.AddGpu wires it
                    region.MoveTo(transport.SharedMemoryAddress);
                },
                region,
                // No 64-bit window: the prefetchable BAR falls back below 4 GiB, inside the payload's identity map.
                new PciBarAllocator(PciBarAllocator.DefaultMmio32, new PciWindow(0, 0), PciBarAllocator.DefaultIo));
        }, "", TimeSpan.FromSeconds(120));

        Assert.True(result.Reason.ExitCode == 0, $"{result.Reason.Description}\nconsole: {result.Console}");
        Assert.Equal("guest wrote 0 to the debug-exit port", result.Reason.Description);
        Assert.Contains("HOSTMEM OK", result.Console);
        Assert.NotNull(recorder);
        Assert.Equal(1, recorder.MappingsWhileMapped);
        Assert.Equal(GuestPattern, recorder.ReadAtUnmap); // the guest's store, read back from the memfd
        Assert.Equal(0, recorder.MappingsAfterUnmap); // the blob's slot is gone: KVM holds the RAM slots only
    }

    /// <summary>
    /// A blob the host may not write (Weston's keymap is a write-sealed memfd) cannot be mapped shared and writable:
    /// it becomes a KVM_MEM_READONLY slot. The guest reads its bytes natively; its store exits as MMIO and is dropped.
    /// </summary>
    [KvmFact]
    public void AWriteSealedBlobIsAReadOnlySlotTheGuestReadsButCannotWrite()
    {
        const ulong at = PayloadPorts.UnclaimedMmio + 0x10_0000; // no RAM, no BAR: only the slot decodes here
        Assert.True(_kvm.CheckExtension(KvmCapability.ReadonlyMem) > 0, "this KVM lacks KVM_CAP_READONLY_MEM");
        using var sealedBlob = SealedMemfd(0x1000, HostPattern);
        KvmHostVisibleRegion? region = null;
        var result = PciMachineRunner.Run(KernelImage.Parse(Payloads.ReadOnlySlot(at, HostPattern), "readonly-slot"), machine =>
        {
            region = new KvmHostVisibleRegion(machine.Kvm, 0x1000, firstSlot: (uint)machine.Memory.Regions.Count, at);
            Assert.True(region.TryMap(0, 0x1000, sealedBlob, out string? error), error);
            Assert.True(region.IsReadOnly(0));
            return new PciMachineRunner.DeviceSetup(new VirtioGpuDevice(new GpuOptions()), Owned: region);
        }, "", TimeSpan.FromSeconds(60));

        Assert.True(result.Reason.ExitCode == 0, $"{result.Reason.Description}\nconsole: {result.Console}");
        Assert.Contains("READONLY OK", result.Console);
    }

    /// <summary>A memfd holding <paramref name="pattern"/> at offset 0, then sealed against writes, shrinking and growth.</summary>
    private static SafeFileHandle SealedMemfd(int size, uint pattern)
    {
        const uint allowSealing = 2; // MFD_ALLOW_SEALING
        const int addSeals = 1033, sealShrink = 2, sealGrow = 4, sealWrite = 8; // F_ADD_SEALS, F_SEAL_* (linux/fcntl.h)
        int fd;
        fixed (byte* name = "sealed\0"u8)
            fd = Tmds.Linux.LibC.memfd_create(name, allowSealing | Tmds.Linux.LibC.MFD_CLOEXEC);
        Assert.True(fd >= 0, "memfd_create failed");
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        var bytes = new byte[size];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, pattern);
        RandomAccess.Write(handle, bytes, 0);
        Assert.Equal(0, Tmds.Linux.LibC.fcntl(fd, addSeals, sealShrink | sealGrow | sealWrite));
        return handle;
    }

    [KvmFact]
    public void PayloadLayoutMatchesTheGpuProtocol()
    {
        Assert.Equal((uint)VirtioGpuCtrlType.CMD_CTX_CREATE, HostVisiblePayloads.CmdCtxCreate);
        Assert.Equal((uint)VirtioGpuCtrlType.CMD_RESOURCE_CREATE_BLOB, HostVisiblePayloads.CmdResourceCreateBlob);
        Assert.Equal((uint)VirtioGpuCtrlType.CMD_RESOURCE_MAP_BLOB, HostVisiblePayloads.CmdResourceMapBlob);
        Assert.Equal((uint)VirtioGpuCtrlType.CMD_RESOURCE_UNMAP_BLOB, HostVisiblePayloads.CmdResourceUnmapBlob);
        Assert.Equal((uint)VirtioGpuCtrlType.RESP_OK_NODATA, HostVisiblePayloads.RespOkNoData);
        Assert.Equal((uint)VirtioGpuCtrlType.RESP_OK_MAP_INFO, HostVisiblePayloads.RespOkMapInfo);
        Assert.Equal(VirtioGpuConstants.VIRTIO_GPU_F_VIRGL, HostVisiblePayloads.FeatureVirgl);
        Assert.Equal(VirtioGpuConstants.VIRTIO_GPU_F_RESOURCE_BLOB, HostVisiblePayloads.FeatureResourceBlob);
        Assert.Equal(VirtioGpuConstants.VIRTIO_GPU_F_CONTEXT_INIT, HostVisiblePayloads.FeatureContextInit);
        Assert.Equal(VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_HOST3D, HostVisiblePayloads.BlobMemHost3d);
        Assert.Equal(VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, HostVisiblePayloads.BlobFlagMappable);
        Assert.Equal(HostVisiblePayloads.CtxCreateLength, Unsafe.SizeOf<VirtioGpuCtxCreate>());
        Assert.Equal(HostVisiblePayloads.CreateBlobLength, Unsafe.SizeOf<VirtioGpuResourceCreateBlob>());
        Assert.Equal(HostVisiblePayloads.MapBlobLength, Unsafe.SizeOf<VirtioGpuResourceMapBlob>());
        Assert.Equal(HostVisiblePayloads.UnmapBlobLength, Unsafe.SizeOf<VirtioGpuResourceUnmapBlob>());
        Assert.Equal(HostVisiblePayloads.MapInfoLength, Unsafe.SizeOf<VirtioGpuRespMapInfo>());
    }

    /// <summary>
    /// The host's end of the memfd, seen from the only place it passes through: the device hands each blob's memfd
    /// to the region on MAP. The host pattern goes in before the slot exists (so the guest can only see it through
    /// the slot), and the first dword is read back at UNMAP, while the guest's store is still the latest write.
    /// Calls come from the device thread, one at a time.
    /// </summary>
    private sealed class RecordingRegion(KvmHostVisibleRegion inner, uint hostPattern) : IHostVisibleRegion
    {
        private SafeHandle? _memfd;

        public ulong Size => inner.Size;
        public int MappingsWhileMapped { get; private set; } = -1;
        public int MappingsAfterUnmap { get; private set; } = -1;
        public uint ReadAtUnmap { get; private set; }

        public bool TryMap(ulong offset, ulong size, SafeHandle memfd, out string? error)
        {
            Span<byte> pattern = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(pattern, hostPattern);
            RandomAccess.Write((SafeFileHandle)memfd, pattern, 0);
            _memfd = memfd;
            bool mapped = inner.TryMap(offset, size, memfd, out error);
            MappingsWhileMapped = inner.MappingCount;
            return mapped;
        }

        public void Unmap(ulong offset)
        {
            if (_memfd is not null)
            {
                Span<byte> first = stackalloc byte[4];
                RandomAccess.Read((SafeFileHandle)_memfd, first, 0);
                ReadAtUnmap = BinaryPrimitives.ReadUInt32LittleEndian(first);
            }
            inner.Unmap(offset);
            MappingsAfterUnmap = inner.MappingCount;
        }
    }
}
