using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MiniVmm.Gpu.Protocol;

namespace MiniVmm.Gpu.CrossDomain;

// The 2018 "drm/virtio: Add window server support" interface (Tomeu Vizoso, never merged). Its text was not
// available; every number here is an UNCONFIRMED reconstruction (docs/winsrv.md), so all of them sit in
// WinsrvNumbers, which the device takes as an option: correcting one is a one-line change. The structs'
// shapes are also reconstructions; their sizes are pinned by tests so a correction shows up as a test change.

/// <summary>The winsrv numbers. <see cref="Reconstructed"/> is our best guess; every field can be overridden.</summary>
public sealed record WinsrvNumbers
{
    /// <summary>UNCONFIRMED. Bit 1 was the next free bit in 2018; it is VIRTIO_GPU_F_EDID today, so a device that
    /// offers EDID must move winsrv elsewhere (or turn EDID off).</summary>
    public int FeatureBit { get; init; } = 1;

    /// <summary>UNCONFIRMED: after control (0) and cursor (1).</summary>
    public int RxQueueIndex { get; init; } = 2;
    public int TxQueueIndex { get; init; } = 3;

    /// <summary>UNCONFIRMED: a new 0x04xx block. CONNECT and DISCONNECT go on the control queue.</summary>
    public uint CmdConnect { get; init; } = 0x0400;
    public uint CmdDisconnect { get; init; } = 0x0401;
    public uint CmdTx { get; init; } = 0x0402;
    public uint CmdRx { get; init; } = 0x0403;

    /// <summary>UNCONFIRMED: the same value as virtio_wl's VIRTWL_SEND_MAX_ALLOCS and cross-domain's 28.</summary>
    public int MaxAllocs { get; init; } = WinsrvTx.MaxResourceIds;

    /// <summary>UNCONFIRMED: RX data capacity.</summary>
    public int MaxData { get; init; } = 4096;

    public static WinsrvNumbers Reconstructed { get; } = new();
}

/// <summary>
/// virtio_gpu_winsrv_connect / _disconnect (32 bytes, UNCONFIRMED): fd is a guest-chosen connection id. Channel was
/// padding in 2018; MiniVmm reads it on CONNECT to pick the compositor socket (0 or 1 unnamed, 20..31 named).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct WinsrvConnect
{
    public const int Size = 32;
    public VirtioGpuCtrlHdr Hdr;
    public uint Fd;
    public uint Channel;
}

/// <summary>virtio_gpu_winsrv_tx / _rx header (144 bytes, UNCONFIRMED), followed by len data bytes (4096 for RX).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct WinsrvTx
{
    public const int Size = 144;
    public const int MaxResourceIds = 28;
    public VirtioGpuCtrlHdr Hdr;
    public uint Fd;
    public uint Len;
    /// <summary>virtio-gpu resource ids of the buffers the message carries; 0 means unused.</summary>
    public WinsrvResourceIds ResourceIds;
}

[InlineArray(WinsrvTx.MaxResourceIds)]
public struct WinsrvResourceIds
{
    private uint _element0;
}
