using MiniVmm.Gpu.Protocol;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Fuzz;

/// <summary>Blob, context and 3D commands.</summary>
internal sealed partial class GpuCommandGenerator
{
    private ulong BlobSize() => random.Next(100) switch
    {
        < 40 => Pick(4096UL, 8192UL, 65536UL),
        < 45 => (ulong)random.Next(1, (int)(space.HostVisibleSize / 4096) + 2) * 4096,
        < 50 => (ulong)random.Next(1, 100_000),
        _ => Around(space.HostVisibleSize),
    };

    private FuzzCommand CreateBlob()
    {
        bool guest = Chance(55);
        var entries = guest ? Entries(EntryCount()) : (Chance(90) ? [] : Entries(1));
        if (guest && Chance(40))
            entries = [(space.PoolStart + (ulong)random.Next(0, (int)(space.PoolSize / 4096) - 1) * 4096, 4096)]; // a ring-sized blob
        var cmd = new VirtioGpuResourceCreateBlob
        {
            Hdr = Hdr(CMD_RESOURCE_CREATE_BLOB, guest && Chance(80) ? 0 : ContextId()),
            ResourceId = ResourceId(),
            BlobMem = Chance(90) ? (guest ? VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_GUEST : VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_HOST3D) : Pick(0u, 3u, 4u, uint.MaxValue),
            BlobFlags = Chance(85) ? Pick(GpuHarness.Mappable | GpuHarness.Shareable, GpuHarness.Shareable, GpuHarness.Mappable) : (uint)random.Next(),
            NrEntries = Chance(92) ? (uint)entries.Length : Pick(uint.MaxValue, (uint)entries.Length + 1),
            BlobId = Chance(85) ? (ulong)random.Next(0, 8) : (ulong)random.NextInt64(),
            Size = guest && entries.Length == 1 && entries[0].Length == 4096 && Chance(80) ? 4096 : BlobSize(),
        };
        return Command($"CREATE_BLOB ctx={cmd.Hdr.CtxId} id={cmd.ResourceId} mem={cmd.BlobMem} flags=0x{cmd.BlobFlags:x} nr={cmd.NrEntries} blob_id={cmd.BlobId} size=0x{cmd.Size:x}",
            cmd, GpuHarness.MemEntries(entries));
    }

    private FuzzCommand MapOrUnmapBlob()
    {
        if (Chance(35))
            return Command("UNMAP_BLOB", new VirtioGpuResourceUnmapBlob { Hdr = Hdr(CMD_RESOURCE_UNMAP_BLOB), ResourceId = ResourceId() });
        if (Chance(15))
            return Command("ASSIGN_UUID", new VirtioGpuResourceAssignUuid { Hdr = Hdr(CMD_RESOURCE_ASSIGN_UUID), ResourceId = ResourceId() }, responseSize: 40);
        var cmd = new VirtioGpuResourceMapBlob { Hdr = Hdr(CMD_RESOURCE_MAP_BLOB), ResourceId = ResourceId(), Offset = PageInRegionOrAround() };
        return Command($"MAP_BLOB id={cmd.ResourceId} offset=0x{cmd.Offset:x}", cmd, responseSize: 32);
    }

    private ulong PageInRegionOrAround() => Chance(50)
        ? (ulong)random.Next(0, (int)(space.HostVisibleSize / 4096) + 1) * 4096
        : Around(space.HostVisibleSize - Pick(0UL, 4096UL, 65536UL));

    private FuzzCommand SetScanoutBlob()
    {
        uint width = Dimension(), height = Dimension();
        var cmd = new VirtioGpuSetScanoutBlob
        {
            Hdr = Hdr(CMD_SET_SCANOUT_BLOB), R = Rect(Math.Min(width, 4096), Math.Min(height, 4096)), ScanoutId = ScanoutId(),
            ResourceId = Chance(10) ? 0 : ResourceId(), Width = width, Height = height, Format = Format(),
        };
        cmd.Strides[0] = Chance(70) ? width * 4 : Pick(0u, width, uint.MaxValue, (uint)random.Next());
        cmd.Offsets[0] = (uint)Around(4096);
        return Command($"SET_SCANOUT_BLOB scanout={cmd.ScanoutId} id={cmd.ResourceId} {width}x{height} rect={cmd.R} stride={cmd.Strides[0]} offset={cmd.Offsets[0]}", cmd);
    }

    private FuzzCommand Context()
    {
        if (Chance(40))
        {
            uint ctx = ContextId();
            var hdr = Hdr(CMD_CTX_DESTROY, ctx);
            bool gone = shadow.FreedContexts.Contains(ctx) || ctx == 0;
            return Command($"CTX_DESTROY ctx={ctx}", hdr) with { Expected = gone && RingOk(hdr) ? RESP_ERR_INVALID_CONTEXT_ID : null };
        }
        var cmd = new VirtioGpuCtxCreate
        {
            Hdr = Hdr(CMD_CTX_CREATE, ContextId()),
            Nlen = Chance(90) ? (uint)random.Next(0, 65) : Pick(65u, uint.MaxValue),
            ContextInit = Chance(85) ? VirtioGpuConstants.VIRTIO_GPU_CAPSET_CROSS_DOMAIN : Pick(0u, 1u, 0x105u, uint.MaxValue),
        };
        random.NextBytes(cmd.DebugName);
        return Command($"CTX_CREATE ctx={cmd.Hdr.CtxId} init=0x{cmd.ContextInit:x} nlen={cmd.Nlen}", cmd);
    }

    private FuzzCommand CtxResource()
    {
        var type = Chance(65) ? CMD_CTX_ATTACH_RESOURCE : CMD_CTX_DETACH_RESOURCE;
        var cmd = new VirtioGpuCtxResource { Hdr = Hdr(type, ContextId()), ResourceId = ResourceId() };
        return Command($"{type} ctx={cmd.Hdr.CtxId} id={cmd.ResourceId}", cmd);
    }

    /// <summary>3D commands with no renderer behind them: each must still get an answer.</summary>
    private FuzzCommand Unsupported3d()
    {
        if (Chance(50))
        {
            var create = new VirtioGpuResourceCreate3d { Hdr = Hdr(CMD_RESOURCE_CREATE_3D), ResourceId = ResourceId(), Width = Dimension(), Height = Dimension() };
            return Command("RESOURCE_CREATE_3D", create);
        }
        var transfer = new VirtioGpuTransferHost3d
        {
            Hdr = Hdr(Chance(50) ? CMD_TRANSFER_TO_HOST_3D : CMD_TRANSFER_FROM_HOST_3D, ContextId()), ResourceId = ResourceId(), Offset = Around(4096),
        };
        return Command("TRANSFER_3D", transfer);
    }
}
