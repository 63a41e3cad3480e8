using System.Runtime.InteropServices;

namespace MiniVmm.GuestProxy.Drm;

/// <summary>
/// The ioctls and structs of include/uapi/drm/virtgpu_drm.h (and drm.h) the proxy needs. Sizes are part of the ioctl
/// number, so every struct is laid out exactly; the EXECBUFFER form is the 40-byte one from before syncobjs (Linux
/// 5.16+ accepts it and zero-fills the rest), so one binary runs on every kernel that has CONTEXT_INIT.
/// </summary>
internal static class VirtGpuDrm
{
    private const uint DrmCommandBase = 0x40;

    public static readonly ulong Map = IoWR(DrmCommandBase + 0x01, 16);
    public static readonly ulong ExecBuffer = IoWR(DrmCommandBase + 0x02, 40);
    public static readonly ulong Wait = IoWR(DrmCommandBase + 0x08, 8);
    public static readonly ulong ResourceCreateBlob = IoWR(DrmCommandBase + 0x0a, 48);
    public static readonly ulong ContextInit = IoWR(DrmCommandBase + 0x0b, 16);
    public static readonly ulong PrimeHandleToFd = IoWR(0x2d, 12);
    public static readonly ulong GemClose = IoW(0x09, 8);

    public const uint ExecbufRingIdx = 0x04;
    public const uint BlobMemGuest = 0x0001, BlobMemHost3d = 0x0002;
    public const uint BlobFlagMappable = 0x0001, BlobFlagShareable = 0x0002;
    public const ulong ParamCapsetId = 1, ParamNumRings = 2, ParamPollRingsMask = 3;
    /// <summary>VIRTGPU_EVENT_FENCE_SIGNALED: read from the DRM fd when a fence on a polled ring signals.</summary>
    public const uint EventFenceSignaled = 0x90000000;
    public const int DrmCloexec = 0x80000, DrmRdwr = 0x2;
    /// <summary>VIRTGPU_WAIT's answer when the buffer's fences did not signal within the kernel's 15 s.</summary>
    public const int Ebusy = 16;

    // _IOC(dir, 'd', nr, size): dir 3 = read|write, 1 = write.
    private static ulong IoWR(uint nr, uint size) => (3UL << 30) | ((ulong)size << 16) | ('d' << 8) | nr;

    private static ulong IoW(uint nr, uint size) => (1UL << 30) | ((ulong)size << 16) | ('d' << 8) | nr;
}

[StructLayout(LayoutKind.Sequential)]
internal struct DrmVirtGpuMap { public ulong Offset; public uint Handle; public uint Pad; }

[StructLayout(LayoutKind.Sequential)]
internal struct DrmVirtGpuWait { public uint Handle; public uint Flags; }

[StructLayout(LayoutKind.Sequential)]
internal struct DrmVirtGpuExecBuffer
{
    public uint Flags;
    public uint Size;
    public ulong Command;
    public ulong BoHandles;
    public uint NumBoHandles;
    public int FenceFd;
    public uint RingIdx;
    public uint Pad;
}

[StructLayout(LayoutKind.Sequential)]
internal struct DrmVirtGpuResourceCreateBlob
{
    public uint BlobMem;
    public uint BlobFlags;
    public uint BoHandle;
    public uint ResHandle;
    public ulong Size;
    public uint Pad;
    public uint CmdSize;
    public ulong Cmd;
    public ulong BlobId;
}

[StructLayout(LayoutKind.Sequential)]
internal struct DrmVirtGpuContextSetParam { public ulong Param; public ulong Value; }

[StructLayout(LayoutKind.Sequential)]
internal struct DrmVirtGpuContextInit { public uint NumParams; public uint Pad; public ulong CtxSetParams; }

[StructLayout(LayoutKind.Sequential)]
internal struct DrmPrimeHandle { public uint Handle; public uint Flags; public int Fd; }

[StructLayout(LayoutKind.Sequential)]
internal struct DrmGemClose { public uint Handle; public uint Pad; }
