namespace MiniVmm.Gpu.Protocol;

/// <summary>enum virtio_gpu_ctrl_type (virtio spec 5.7.6.7; Linux uapi virtio_gpu.h), without the VIRTIO_GPU_ prefix.</summary>
public enum VirtioGpuCtrlType : uint
{
    // 2D and blob commands.
    CMD_GET_DISPLAY_INFO = 0x0100,
    CMD_RESOURCE_CREATE_2D = 0x0101,
    CMD_RESOURCE_UNREF = 0x0102,
    CMD_SET_SCANOUT = 0x0103,
    CMD_RESOURCE_FLUSH = 0x0104,
    CMD_TRANSFER_TO_HOST_2D = 0x0105,
    CMD_RESOURCE_ATTACH_BACKING = 0x0106,
    CMD_RESOURCE_DETACH_BACKING = 0x0107,
    CMD_GET_CAPSET_INFO = 0x0108,
    CMD_GET_CAPSET = 0x0109,
    CMD_GET_EDID = 0x010a,
    CMD_RESOURCE_ASSIGN_UUID = 0x010b,
    CMD_RESOURCE_CREATE_BLOB = 0x010c,
    CMD_SET_SCANOUT_BLOB = 0x010d,

    // 3D commands.
    CMD_CTX_CREATE = 0x0200,
    CMD_CTX_DESTROY = 0x0201,
    CMD_CTX_ATTACH_RESOURCE = 0x0202,
    CMD_CTX_DETACH_RESOURCE = 0x0203,
    CMD_RESOURCE_CREATE_3D = 0x0204,
    CMD_TRANSFER_TO_HOST_3D = 0x0205,
    CMD_TRANSFER_FROM_HOST_3D = 0x0206,
    CMD_SUBMIT_3D = 0x0207,
    CMD_RESOURCE_MAP_BLOB = 0x0208,
    CMD_RESOURCE_UNMAP_BLOB = 0x0209,

    // Cursor queue commands.
    CMD_UPDATE_CURSOR = 0x0300,
    CMD_MOVE_CURSOR = 0x0301,

    // Success responses.
    RESP_OK_NODATA = 0x1100,
    RESP_OK_DISPLAY_INFO = 0x1101,
    RESP_OK_CAPSET_INFO = 0x1102,
    RESP_OK_CAPSET = 0x1103,
    RESP_OK_EDID = 0x1104,
    RESP_OK_RESOURCE_UUID = 0x1105,
    RESP_OK_MAP_INFO = 0x1106,

    // Error responses.
    RESP_ERR_UNSPEC = 0x1200,
    RESP_ERR_OUT_OF_MEMORY = 0x1201,
    RESP_ERR_INVALID_SCANOUT_ID = 0x1202,
    RESP_ERR_INVALID_RESOURCE_ID = 0x1203,
    RESP_ERR_INVALID_CONTEXT_ID = 0x1204,
    RESP_ERR_INVALID_PARAMETER = 0x1205,
}

/// <summary>enum virtio_gpu_formats: byte order in memory is the order of the letters in the name.</summary>
public enum VirtioGpuFormat : uint
{
    B8G8R8A8_UNORM = 1,
    B8G8R8X8_UNORM = 2,
    A8R8G8B8_UNORM = 3,
    X8R8G8B8_UNORM = 4,
    R8G8B8A8_UNORM = 67,
    X8B8G8R8_UNORM = 68,
    A8B8G8R8_UNORM = 121,
    R8G8B8X8_UNORM = 134,
}

/// <summary>Feature bits, flags and limits of virtio-gpu (spec 5.7.3 and 5.7.6; Linux uapi virtio_gpu.h).</summary>
public static class VirtioGpuConstants
{
    /// <summary>Virtio device ID of the GPU (spec 5).</summary>
    public const uint VIRTIO_ID_GPU = 16;

    // Feature bits (spec 5.7.3).
    public const int VIRTIO_GPU_F_VIRGL = 0;
    public const int VIRTIO_GPU_F_EDID = 1;
    public const int VIRTIO_GPU_F_RESOURCE_UUID = 2;
    public const int VIRTIO_GPU_F_RESOURCE_BLOB = 3;
    public const int VIRTIO_GPU_F_CONTEXT_INIT = 4;

    /// <summary>virtio 1.4 only; Linux 6.1 does not know it.</summary>
    public const int VIRTIO_GPU_F_BLOB_ALIGNMENT = 5;

    // virtio_gpu_ctrl_hdr.flags.
    public const uint VIRTIO_GPU_FLAG_FENCE = 1 << 0;
    public const uint VIRTIO_GPU_FLAG_INFO_RING_IDX = 1 << 1;

    /// <summary>ring_idx is below this (Linux VIRTIO_GPU_MAX_RINGS; DRM_VIRTGPU_CONTEXT_PARAM_NUM_RINGS limit).</summary>
    public const int MaxRings = 64;

    /// <summary>virtio_gpu_config.events_read bit: the display configuration changed.</summary>
    public const uint VIRTIO_GPU_EVENT_DISPLAY = 1 << 0;

    public const int VIRTIO_GPU_MAX_SCANOUTS = 16;

    // Capset ids (spec; rutabaga adds more).
    public const uint VIRTIO_GPU_CAPSET_VIRGL = 1;
    public const uint VIRTIO_GPU_CAPSET_VIRGL2 = 2;
    public const uint VIRTIO_GPU_CAPSET_GFXSTREAM = 3;
    public const uint VIRTIO_GPU_CAPSET_VENUS = 4;
    public const uint VIRTIO_GPU_CAPSET_CROSS_DOMAIN = 5;

    /// <summary>virtio_gpu_ctx_create.context_init: the low byte selects the capset.</summary>
    public const uint VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK = 0x000000ff;

    // Blob memory types and flags.
    public const uint VIRTIO_GPU_BLOB_MEM_GUEST = 0x0001;
    public const uint VIRTIO_GPU_BLOB_MEM_HOST3D = 0x0002;
    public const uint VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST = 0x0003;
    public const uint VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE = 0x0001;
    public const uint VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE = 0x0002;
    public const uint VIRTIO_GPU_BLOB_FLAG_USE_CROSS_DEVICE = 0x0004;

    // resp_map_info.map_info cache types.
    public const uint VIRTIO_GPU_MAP_CACHE_MASK = 0x0f;
    public const uint VIRTIO_GPU_MAP_CACHE_NONE = 0x00;
    public const uint VIRTIO_GPU_MAP_CACHE_CACHED = 0x01;
    public const uint VIRTIO_GPU_MAP_CACHE_UNCACHED = 0x02;
    public const uint VIRTIO_GPU_MAP_CACHE_WC = 0x03;

    /// <summary>enum virtio_gpu_shm_id: the host-visible region's shared-memory id.</summary>
    public const byte VIRTIO_GPU_SHM_ID_HOST_VISIBLE = 1;

    // Queue indices (spec 5.7.2).
    public const int ControlQueue = 0;
    public const int CursorQueue = 1;

    /// <summary>Cursor images are 64x64 (spec 5.7.6.10; Linux VIRTIO_GPU cursor plane).</summary>
    public const uint CursorSize = 64;

    /// <summary>Size of the EDID blob in virtio_gpu_resp_edid.</summary>
    public const int EdidBlobSize = 1024;
}
