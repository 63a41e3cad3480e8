using System.Runtime.InteropServices;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Memory;
using MiniVmm.Virtio.Queue;

namespace MiniVmm.Gpu.Frontend;

/// <summary>
/// Decoding of the capset, UUID, blob and context commands. Each is served only when its feature is offered
/// (RESOURCE_BLOB with blob=on, VIRGL + CONTEXT_INIT with contexts=on); otherwise it gets ERR_UNSPEC, as before.
/// </summary>
internal readonly record struct SubmitFence(uint CtxId, uint Flags, byte RingIdx, int Polls)
{
    /// <summary>Fenced on a context timeline (FENCE | INFO_RING_IDX): only such fences can wait for a message.</summary>
    public bool OnTimeline => (Flags & (VirtioGpuConstants.VIRTIO_GPU_FLAG_FENCE | VirtioGpuConstants.VIRTIO_GPU_FLAG_INFO_RING_IDX))
        == (VirtioGpuConstants.VIRTIO_GPU_FLAG_FENCE | VirtioGpuConstants.VIRTIO_GPU_FLAG_INFO_RING_IDX);
}

internal sealed partial class GpuFrontend
{
    /// <summary>Largest SUBMIT_3D stream read: cross-domain commands are small (a SEND carries at most a few KiB).</summary>
    public const uint MaxSubmitBytes = 1 << 20;

    private GpuResponse DispatchExtended(in VirtioGpuCtrlHdr hdr, DescriptorChainReader reader, GuestMemory memory, out string? fields)
    {
        fields = null;
        var options = _backend.Options;
        var type = (VirtioGpuCtrlType)hdr.Type;
        bool blobCommand = type is VirtioGpuCtrlType.CMD_RESOURCE_CREATE_BLOB or VirtioGpuCtrlType.CMD_SET_SCANOUT_BLOB
            or VirtioGpuCtrlType.CMD_RESOURCE_ASSIGN_UUID or VirtioGpuCtrlType.CMD_RESOURCE_MAP_BLOB or VirtioGpuCtrlType.CMD_RESOURCE_UNMAP_BLOB;
        if (blobCommand ? !options.Blob : !options.Contexts)
            return GpuResponse.ErrUnspec("not supported by this device (feature not offered)");
        switch (type)
        {
            case VirtioGpuCtrlType.CMD_GET_CAPSET_INFO:
            {
                if (!TryReadBody(in hdr, reader, out VirtioGpuGetCapsetInfo cmd))
                    return Truncated<VirtioGpuGetCapsetInfo>(reader);
                fields = Tracing ? $"index={cmd.CapsetIndex}" : null;
                return _backend.GetCapsetInfo(cmd.CapsetIndex);
            }
            case VirtioGpuCtrlType.CMD_GET_CAPSET:
            {
                if (!TryReadBody(in hdr, reader, out VirtioGpuGetCapset cmd))
                    return Truncated<VirtioGpuGetCapset>(reader);
                fields = Tracing ? $"id={cmd.CapsetId} version={cmd.CapsetVersion}" : null;
                return _backend.GetCapset(cmd.CapsetId, cmd.CapsetVersion);
            }
            case VirtioGpuCtrlType.CMD_CTX_CREATE:
            {
                if (!TryReadBody(in hdr, reader, out VirtioGpuCtxCreate cmd))
                    return Truncated<VirtioGpuCtxCreate>(reader);
                if (cmd.Nlen > 64)
                    return GpuResponse.ErrInvalidParameter($"debug name length {cmd.Nlen} is more than 64");
                string name = DebugName(((ReadOnlySpan<byte>)cmd.DebugName)[..(int)cmd.Nlen]);
                fields = Tracing ? $"ctx={hdr.CtxId} init=0x{cmd.ContextInit:x} name={name}" : null;
                return _backend.CreateContext(hdr.CtxId, cmd.ContextInit, name);
            }
            case VirtioGpuCtrlType.CMD_CTX_DESTROY:
                fields = Tracing ? $"ctx={hdr.CtxId}" : null;
                return _backend.DestroyContext(hdr.CtxId);
            case VirtioGpuCtrlType.CMD_CTX_ATTACH_RESOURCE or VirtioGpuCtrlType.CMD_CTX_DETACH_RESOURCE:
            {
                if (!TryReadBody(in hdr, reader, out VirtioGpuCtxResource cmd))
                    return Truncated<VirtioGpuCtxResource>(reader);
                fields = Tracing ? $"ctx={hdr.CtxId} id={cmd.ResourceId}" : null;
                return _backend.AttachToContext(hdr.CtxId, cmd.ResourceId, type == VirtioGpuCtrlType.CMD_CTX_ATTACH_RESOURCE);
            }
            case VirtioGpuCtrlType.CMD_SUBMIT_3D:
                return Submit3D(in hdr, reader, out fields);
            case VirtioGpuCtrlType.CMD_RESOURCE_CREATE_3D or VirtioGpuCtrlType.CMD_TRANSFER_TO_HOST_3D
                or VirtioGpuCtrlType.CMD_TRANSFER_FROM_HOST_3D:
                return GpuResponse.ErrUnspec("no virgl renderer: 3D resources are not supported");
            default:
                return DispatchBlob(in hdr, reader, memory, out fields);
        }
    }

    private GpuResponse Submit3D(in VirtioGpuCtrlHdr hdr, DescriptorChainReader reader, out string? fields)
    {
        fields = null;
        if (!TryReadBody(in hdr, reader, out VirtioGpuCmdSubmit cmd))
            return Truncated<VirtioGpuCmdSubmit>(reader);
        fields = Tracing ? $"ctx={hdr.CtxId} size={cmd.Size}" : null;
        if (cmd.Size > reader.Remaining || cmd.Size > MaxSubmitBytes)
            return GpuResponse.ErrInvalidParameter($"size {cmd.Size} but {reader.Remaining} bytes follow (at most {MaxSubmitBytes})");
        var commands = new byte[cmd.Size];
        if (!reader.TryReadBytes(commands))
            return GpuResponse.ErrUnspec("command stream could not be read");
        var response = _backend.Submit3D(hdr.CtxId, commands, out int polls);
        // Always: any SUBMIT_3D (a plain SEND too) may answer an outstanding POLL when the compositor's reply is
        // already there, and the device must credit that message to the waiting fence now, or the guest waits forever.
        LastSubmit = new SubmitFence(hdr.CtxId, hdr.Flags, hdr.RingIdx, polls);
        return response;
    }

    /// <summary>
    /// Set by every SUBMIT_3D, for the device's fence bookkeeping; the device clears it
    /// before each chain. <see cref="SubmitFence.Polls"/> counts channel-ring messages still owed for it.
    /// </summary>
    public SubmitFence? LastSubmit { get; set; }

    /// <summary>The guest's debug name as printable ASCII (it only ever reaches traces).</summary>
    private static string DebugName(ReadOnlySpan<byte> bytes)
    {
        int end = bytes.IndexOf((byte)0);
        var chars = new char[end < 0 ? bytes.Length : end];
        for (int i = 0; i < chars.Length; i++)
            chars[i] = bytes[i] is >= 0x20 and < 0x7f ? (char)bytes[i] : '?';
        return new string(chars);
    }
}
