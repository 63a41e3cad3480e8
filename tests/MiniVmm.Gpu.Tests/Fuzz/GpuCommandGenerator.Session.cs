using MiniVmm.Gpu.Protocol;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Fuzz;

/// <summary>
/// A guest proxy's session the way it really starts (context, two ring blobs attached, INIT, an image query, a
/// HOST3D blob for it, mapped), so the deeper paths see traffic; each command is still mangled now and then.
/// </summary>
internal sealed partial class GpuCommandGenerator
{
    private void QueueSession()
    {
        uint ctx = (uint)random.Next(1, 12);
        uint queryRing = (uint)random.Next(1, 40), channelRing = (uint)random.Next(1, 40), image = (uint)random.Next(1, 40);
        var create = new VirtioGpuCtxCreate
        {
            Hdr = GpuHarness.Hdr(CMD_CTX_CREATE, ctxId: ctx), Nlen = 6, ContextInit = VirtioGpuConstants.VIRTIO_GPU_CAPSET_CROSS_DOMAIN,
        };
        _pending.Enqueue(Mangle(Command($"session CTX_CREATE ctx={ctx}", create)));
        foreach (uint ring in new[] { queryRing, channelRing })
        {
            var entries = new[] { (space.PoolStart + (ulong)random.Next(0, (int)(space.PoolSize / 4096)) * 4096, 4096u) };
            var blob = new VirtioGpuResourceCreateBlob
            {
                Hdr = GpuHarness.Hdr(CMD_RESOURCE_CREATE_BLOB), ResourceId = ring, BlobMem = VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_GUEST,
                BlobFlags = GpuHarness.Shareable, NrEntries = 1, Size = 4096,
            };
            _pending.Enqueue(Mangle(Command($"session ring CREATE_BLOB id={ring} at 0x{entries[0].Item1:x}", blob, GpuHarness.MemEntries(entries))));
            var attach = new VirtioGpuCtxResource { Hdr = GpuHarness.Hdr(CMD_CTX_ATTACH_RESOURCE, ctxId: ctx), ResourceId = ring };
            _pending.Enqueue(Mangle(Command($"session CTX_ATTACH ctx={ctx} id={ring}", attach)));
        }
        SessionSubmit(ctx, "INIT", GpuHarness.XdInit(queryRing, channelRing));
        SessionSubmit(ctx, "IMAGE_REQ", GpuHarness.XdImageRequirements((uint)random.Next(1, 300), (uint)random.Next(1, 300)));
        var host = new VirtioGpuResourceCreateBlob
        {
            Hdr = GpuHarness.Hdr(CMD_RESOURCE_CREATE_BLOB, ctxId: ctx), ResourceId = image, BlobMem = VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_HOST3D,
            BlobFlags = GpuHarness.Mappable | GpuHarness.Shareable, BlobId = (ulong)random.Next(1, 4), Size = (ulong)random.Next(1, 100) * 4096,
        };
        _pending.Enqueue(Mangle(Command($"session HOST3D CREATE_BLOB ctx={ctx} id={image} blob_id={host.BlobId} size=0x{host.Size:x}", host)));
        var map = new VirtioGpuResourceMapBlob { Hdr = GpuHarness.Hdr(CMD_RESOURCE_MAP_BLOB), ResourceId = image, Offset = PageInRegionOrAround() };
        _pending.Enqueue(Mangle(Command($"session MAP_BLOB id={image} offset=0x{map.Offset:x}", map, responseSize: 32)));
        SessionSubmit(ctx, "POLL", GpuHarness.XdPoll(), onTimeline: true); // the proxy's fenced POLL, which waits for the compositor
        QueueFrame(image);
        SessionSubmit(ctx, "SEND", GpuHarness.XdSend("hello"u8, (image, (uint)CrossDomainIdType.VirtgpuBlob)));
    }

    /// <summary>A 16x16 resource with one page of backing, transferred, shown and flushed.</summary>
    private void QueueFrame(uint id)
    {
        var rect = new VirtioGpuRect(0, 0, 16, 16);
        var page = space.PoolStart + (ulong)random.Next(0, (int)(space.PoolSize / 4096)) * 4096;
        _pending.Enqueue(Mangle(Command($"frame CREATE_2D id={id}", new VirtioGpuResourceCreate2d
        {
            Hdr = GpuHarness.Hdr(CMD_RESOURCE_CREATE_2D), ResourceId = id, Format = Pick(Formats), Width = 16, Height = 16,
        })));
        var attach = new VirtioGpuResourceAttachBacking { Hdr = GpuHarness.Hdr(CMD_RESOURCE_ATTACH_BACKING), ResourceId = id, NrEntries = 1 };
        _pending.Enqueue(Mangle(Command($"frame ATTACH_BACKING id={id} 0x{page:x}", attach, GpuHarness.MemEntries([(page, 4096)]))));
        _pending.Enqueue(Mangle(Command($"frame TRANSFER id={id}", new VirtioGpuTransferToHost2d { Hdr = Hdr(CMD_TRANSFER_TO_HOST_2D), R = rect, ResourceId = id })));
        _pending.Enqueue(Mangle(Command($"frame SET_SCANOUT id={id}", new VirtioGpuSetScanout { Hdr = Hdr(CMD_SET_SCANOUT), R = rect, ResourceId = id })));
        _pending.Enqueue(Mangle(Command($"frame FLUSH id={id}", new VirtioGpuResourceFlush { Hdr = Hdr(CMD_RESOURCE_FLUSH), R = rect, ResourceId = id })));
    }

    private void SessionSubmit(uint ctx, string name, byte[] stream, bool onTimeline = false)
    {
        var hdr = onTimeline ? GpuHarness.Hdr(CMD_SUBMIT_3D, (ulong)random.NextInt64(), ctx, (byte)random.Next(0, 4)) : Hdr(CMD_SUBMIT_3D, ctx);
        var submit = new VirtioGpuCmdSubmit { Hdr = hdr, Size = (uint)stream.Length };
        _pending.Enqueue(Mangle(Command($"session SUBMIT_3D ctx={ctx} [{name}]", submit, stream)));
    }
}
