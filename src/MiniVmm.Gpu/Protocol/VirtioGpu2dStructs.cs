using System.Runtime.InteropServices;

namespace MiniVmm.Gpu.Protocol;

// 2D, display and cursor wire structs (spec 5.7.6.8; Linux uapi virtio_gpu.h). All little-endian;
// sizes are asserted by tests. Every request starts with the 24-byte control header.

/// <summary>struct virtio_gpu_ctrl_hdr (24 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuCtrlHdr
{
    public uint Type;
    public uint Flags;
    public ulong FenceId;
    public uint CtxId;
    public byte RingIdx;
    public VirtioGpuPadding3 Padding;
}

/// <summary>struct virtio_gpu_rect (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuRect
{
    public uint X;
    public uint Y;
    public uint Width;
    public uint Height;

    public VirtioGpuRect(uint x, uint y, uint width, uint height)
    {
        X = x;
        Y = y;
        Width = width;
        Height = height;
    }

    public override readonly string ToString() => $"{X},{Y} {Width}x{Height}";
}

/// <summary>One entry of virtio_gpu_resp_display_info.pmodes (24 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuDisplayOne
{
    public VirtioGpuRect R;
    public uint Enabled;
    public uint Flags;
}

/// <summary>struct virtio_gpu_resp_display_info (408 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuRespDisplayInfo
{
    public VirtioGpuCtrlHdr Hdr;
    public VirtioGpuDisplayModes Pmodes;
}

/// <summary>struct virtio_gpu_resource_create_2d (40 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuResourceCreate2d
{
    public VirtioGpuCtrlHdr Hdr;
    public uint ResourceId;
    public uint Format;
    public uint Width;
    public uint Height;
}

/// <summary>struct virtio_gpu_resource_unref (32 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuResourceUnref
{
    public VirtioGpuCtrlHdr Hdr;
    public uint ResourceId;
    public uint Padding;
}

/// <summary>struct virtio_gpu_set_scanout (48 bytes). resource_id 0 disables the scanout.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuSetScanout
{
    public VirtioGpuCtrlHdr Hdr;
    public VirtioGpuRect R;
    public uint ScanoutId;
    public uint ResourceId;
}

/// <summary>struct virtio_gpu_resource_flush (48 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuResourceFlush
{
    public VirtioGpuCtrlHdr Hdr;
    public VirtioGpuRect R;
    public uint ResourceId;
    public uint Padding;
}

/// <summary>struct virtio_gpu_transfer_to_host_2d (56 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuTransferToHost2d
{
    public VirtioGpuCtrlHdr Hdr;
    public VirtioGpuRect R;
    public ulong Offset;
    public uint ResourceId;
    public uint Padding;
}

/// <summary>struct virtio_gpu_mem_entry (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuMemEntry
{
    public ulong Addr;
    public uint Length;
    public uint Padding;
}

/// <summary>struct virtio_gpu_resource_attach_backing (32 bytes), followed by nr_entries mem entries.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuResourceAttachBacking
{
    public VirtioGpuCtrlHdr Hdr;
    public uint ResourceId;
    public uint NrEntries;
}

/// <summary>struct virtio_gpu_resource_detach_backing (32 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuResourceDetachBacking
{
    public VirtioGpuCtrlHdr Hdr;
    public uint ResourceId;
    public uint Padding;
}

/// <summary>struct virtio_gpu_cmd_get_edid (32 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuCmdGetEdid
{
    public VirtioGpuCtrlHdr Hdr;
    public uint Scanout;
    public uint Padding;
}

/// <summary>struct virtio_gpu_resp_edid (1056 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuRespEdid
{
    public VirtioGpuCtrlHdr Hdr;
    public uint Size;
    public uint Padding;
    public VirtioGpuEdidBlob Edid;
}

/// <summary>struct virtio_gpu_cursor_pos (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuCursorPos
{
    public uint ScanoutId;
    public uint X;
    public uint Y;
    public uint Padding;
}

/// <summary>struct virtio_gpu_update_cursor (56 bytes): both UPDATE_CURSOR and MOVE_CURSOR.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuUpdateCursor
{
    public VirtioGpuCtrlHdr Hdr;
    public VirtioGpuCursorPos Pos;
    public uint ResourceId;
    public uint HotX;
    public uint HotY;
    public uint Padding;
}

/// <summary>struct virtio_gpu_config (16 bytes; virtio 1.4 appends blob_alignment with F_BLOB_ALIGNMENT).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VirtioGpuConfig
{
    public uint EventsRead;
    public uint EventsClear;
    public uint NumScanouts;
    public uint NumCapsets;
}
