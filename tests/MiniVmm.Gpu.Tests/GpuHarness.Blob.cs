using MiniVmm.Gpu.Protocol;

namespace MiniVmm.Gpu.Tests;

/// <summary>Blob, capset and context commands, filled the way Linux 6.1 fills them.</summary>
internal sealed partial class GpuHarness
{
    public const uint Mappable = VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE;
    public const uint Shareable = VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE;

    /// <summary>Options for a cross-domain-capable device with a host-visible region.</summary>
    public static GpuOptions BlobOptions(ulong hostmem = 1 << 20) =>
        new() { Blob = true, Contexts = true, HostMemoryBytes = hostmem };

    public Reply CreateContext(uint ctxId, uint contextInit = VirtioGpuConstants.VIRTIO_GPU_CAPSET_CROSS_DOMAIN, string name = "weston")
    {
        var cmd = new VirtioGpuCtxCreate { Hdr = Hdr(VirtioGpuCtrlType.CMD_CTX_CREATE, ctxId: ctxId), Nlen = (uint)name.Length, ContextInit = contextInit };
        System.Text.Encoding.ASCII.GetBytes(name).CopyTo(cmd.DebugName);
        return Submit(cmd);
    }

    public Reply DestroyContext(uint ctxId) => Submit(Hdr(VirtioGpuCtrlType.CMD_CTX_DESTROY, ctxId: ctxId));

    public Reply CtxResource(VirtioGpuCtrlType type, uint ctxId, uint resourceId) =>
        Submit(new VirtioGpuCtxResource { Hdr = Hdr(type, ctxId: ctxId), ResourceId = resourceId });

    /// <summary>A HOST3D blob the way Linux sends one: ctx_id of the file's context, blob_id, no entries.</summary>
    public Reply CreateHostBlob(uint id, ulong size, uint ctxId = 1, uint flags = Mappable | Shareable, ulong blobId = 1) =>
        Submit(new VirtioGpuResourceCreateBlob
        {
            Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_CREATE_BLOB, ctxId: ctxId),
            ResourceId = id,
            BlobMem = VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_HOST3D,
            BlobFlags = flags,
            BlobId = blobId,
            Size = size,
        });

    /// <summary>A GUEST blob with ctx_id 0 and its mem entries in a second descriptor.</summary>
    public Reply CreateGuestBlob(uint id, ulong size, (ulong Addr, uint Length)[] entries, uint flags = Shareable) =>
        Submit(new VirtioGpuResourceCreateBlob
        {
            Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_CREATE_BLOB),
            ResourceId = id,
            BlobMem = VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_GUEST,
            BlobFlags = flags,
            NrEntries = (uint)entries.Length,
            Size = size,
        }, extra: MemEntries(entries));

    public Reply MapBlob(uint id, ulong offset) =>
        Submit(new VirtioGpuResourceMapBlob { Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_MAP_BLOB), ResourceId = id, Offset = offset }, 32);

    public Reply UnmapBlob(uint id) =>
        Submit(new VirtioGpuResourceUnmapBlob { Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_UNMAP_BLOB), ResourceId = id });

    public Reply AssignUuid(uint id) =>
        Submit(new VirtioGpuResourceAssignUuid { Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_ASSIGN_UUID), ResourceId = id }, 40);

    public Reply SetScanoutBlob(uint scanout, uint id, VirtioGpuRect r, uint width, uint height, uint stride, uint offset = 0,
        VirtioGpuFormat format = VirtioGpuFormat.B8G8R8X8_UNORM)
    {
        var cmd = new VirtioGpuSetScanoutBlob
        {
            Hdr = Hdr(VirtioGpuCtrlType.CMD_SET_SCANOUT_BLOB),
            R = r,
            ScanoutId = scanout,
            ResourceId = id,
            Width = width,
            Height = height,
            Format = (uint)format,
        };
        cmd.Strides[0] = stride;
        cmd.Offsets[0] = offset;
        return Submit(cmd);
    }

    public static byte[] MemEntries((ulong Addr, uint Length)[] entries)
    {
        var bytes = new byte[16 * entries.Length];
        for (int i = 0; i < entries.Length; i++)
            Bytes(new VirtioGpuMemEntry { Addr = entries[i].Addr, Length = entries[i].Length }).CopyTo(bytes, 16 * i);
        return bytes;
    }
}
