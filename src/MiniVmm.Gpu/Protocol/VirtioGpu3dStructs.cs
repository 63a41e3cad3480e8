using System.Runtime.InteropServices;

namespace MiniVmm.Gpu.Protocol;

// Capset, UUID, blob and 3D wire structs (spec 5.7.6.8; Linux uapi virtio_gpu.h). Served when blob=on or
// contexts=on offers their features; RESOURCE_CREATE_3D and the 3D transfers always answer ERR_UNSPEC.

/// <summary>struct virtio_gpu_get_capset_info (32 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuGetCapsetInfo
{
    public VirtioGpuCtrlHdr Hdr;
    public uint CapsetIndex;
    public uint Padding;
}

/// <summary>struct virtio_gpu_resp_capset_info (40 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuRespCapsetInfo
{
    public VirtioGpuCtrlHdr Hdr;
    public uint CapsetId;
    public uint CapsetMaxVersion;
    public uint CapsetMaxSize;
    public uint Padding;
}

/// <summary>struct virtio_gpu_get_capset (32 bytes). The response is the header followed by capset_data.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuGetCapset
{
    public VirtioGpuCtrlHdr Hdr;
    public uint CapsetId;
    public uint CapsetVersion;
}

/// <summary>struct virtio_gpu_resource_assign_uuid (32 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuResourceAssignUuid
{
    public VirtioGpuCtrlHdr Hdr;
    public uint ResourceId;
    public uint Padding;
}

/// <summary>struct virtio_gpu_resp_resource_uuid (40 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuRespResourceUuid
{
    public VirtioGpuCtrlHdr Hdr;
    public VirtioGpuBytes16 Uuid;
}

/// <summary>struct virtio_gpu_resource_create_blob (56 bytes), followed by nr_entries mem entries.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuResourceCreateBlob
{
    public VirtioGpuCtrlHdr Hdr;
    public uint ResourceId;
    public uint BlobMem;
    public uint BlobFlags;
    public uint NrEntries;
    public ulong BlobId;
    public ulong Size;
}

/// <summary>struct virtio_gpu_set_scanout_blob (96 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuSetScanoutBlob
{
    public VirtioGpuCtrlHdr Hdr;
    public VirtioGpuRect R;
    public uint ScanoutId;
    public uint ResourceId;
    public uint Width;
    public uint Height;
    public uint Format;
    public uint Padding;
    public VirtioGpuUInt4 Strides;
    public VirtioGpuUInt4 Offsets;
}

/// <summary>struct virtio_gpu_ctx_create (96 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuCtxCreate
{
    public VirtioGpuCtrlHdr Hdr;
    public uint Nlen;
    public uint ContextInit;
    public VirtioGpuBytes64 DebugName;
}

/// <summary>struct virtio_gpu_ctx_destroy (24 bytes: header only).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuCtxDestroy
{
    public VirtioGpuCtrlHdr Hdr;
}

/// <summary>struct virtio_gpu_ctx_resource (32 bytes): CTX_ATTACH_RESOURCE and CTX_DETACH_RESOURCE.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuCtxResource
{
    public VirtioGpuCtrlHdr Hdr;
    public uint ResourceId;
    public uint Padding;
}

/// <summary>struct virtio_gpu_resource_create_3d (72 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuResourceCreate3d
{
    public VirtioGpuCtrlHdr Hdr;
    public uint ResourceId;
    public uint Target;
    public uint Format;
    public uint Bind;
    public uint Width;
    public uint Height;
    public uint Depth;
    public uint ArraySize;
    public uint LastLevel;
    public uint NrSamples;
    public uint Flags;
    public uint Padding;
}

/// <summary>struct virtio_gpu_box (24 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuBox
{
    public uint X;
    public uint Y;
    public uint Z;
    public uint W;
    public uint H;
    public uint D;
}

/// <summary>struct virtio_gpu_transfer_host_3d (72 bytes): TRANSFER_TO_HOST_3D and TRANSFER_FROM_HOST_3D.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuTransferHost3d
{
    public VirtioGpuCtrlHdr Hdr;
    public VirtioGpuBox Box;
    public ulong Offset;
    public uint ResourceId;
    public uint Level;
    public uint Stride;
    public uint LayerStride;
}

/// <summary>struct virtio_gpu_cmd_submit (32 bytes), followed by <see cref="Size"/> bytes of command stream.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuCmdSubmit
{
    public VirtioGpuCtrlHdr Hdr;
    public uint Size;
    public uint Padding;
}

/// <summary>struct virtio_gpu_resource_map_blob (40 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuResourceMapBlob
{
    public VirtioGpuCtrlHdr Hdr;
    public uint ResourceId;
    public uint Padding;
    public ulong Offset;
}

/// <summary>struct virtio_gpu_resp_map_info (32 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuRespMapInfo
{
    public VirtioGpuCtrlHdr Hdr;
    public uint MapInfo;
    public uint Padding;
}

/// <summary>struct virtio_gpu_resource_unmap_blob (32 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuResourceUnmapBlob
{
    public VirtioGpuCtrlHdr Hdr;
    public uint ResourceId;
    public uint Padding;
}
