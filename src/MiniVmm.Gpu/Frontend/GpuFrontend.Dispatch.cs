using System.Runtime.InteropServices;
using MiniVmm.Gpu.Backend;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Memory;
using MiniVmm.Virtio.Queue;

namespace MiniVmm.Gpu.Frontend;

/// <summary>Command decoding and dispatch, one case per command; <c>fields</c> is the trace text (only built when tracing).</summary>
internal sealed partial class GpuFrontend
{
    private GpuResponse DispatchControl(in VirtioGpuCtrlHdr hdr, DescriptorChainReader reader, GuestMemory memory, out string? fields)
    {
        fields = null;
        // Timelines are (ctx_id, ring_idx) with ring_idx < 64 (Linux VIRTIO_GPU_MAX_RINGS). Every command completes
        // before its response is written, so a fence completes with its own response; the deferral a cross-domain
        // POLL needs comes with the cross-domain slice.
        if ((hdr.Flags & VirtioGpuConstants.VIRTIO_GPU_FLAG_INFO_RING_IDX) != 0 && hdr.RingIdx >= VirtioGpuConstants.MaxRings)
            return GpuResponse.ErrInvalidParameter($"ring_idx {hdr.RingIdx} is not below {VirtioGpuConstants.MaxRings}");
        switch ((VirtioGpuCtrlType)hdr.Type)
        {
            case VirtioGpuCtrlType.CMD_GET_DISPLAY_INFO:
                return _backend.GetDisplayInfo();

            case VirtioGpuCtrlType.CMD_GET_EDID:
            {
                if (!TryReadBody(in hdr, reader, out VirtioGpuCmdGetEdid cmd))
                    return Truncated<VirtioGpuCmdGetEdid>(reader);
                fields = Tracing ? $"scanout={cmd.Scanout}" : null;
                return _backend.GetEdid(cmd.Scanout);
            }

            case VirtioGpuCtrlType.CMD_RESOURCE_CREATE_2D:
            {
                if (!TryReadBody(in hdr, reader, out VirtioGpuResourceCreate2d cmd))
                    return Truncated<VirtioGpuResourceCreate2d>(reader);
                fields = Tracing ? $"id={cmd.ResourceId} fmt={FormatName(cmd.Format)} {cmd.Width}x{cmd.Height}" : null;
                return _backend.CreateResource2D(cmd.ResourceId, cmd.Format, cmd.Width, cmd.Height);
            }

            case VirtioGpuCtrlType.CMD_RESOURCE_UNREF:
            {
                if (!TryReadBody(in hdr, reader, out VirtioGpuResourceUnref cmd))
                    return Truncated<VirtioGpuResourceUnref>(reader);
                fields = Tracing ? $"id={cmd.ResourceId}" : null;
                return _backend.UnrefResource(cmd.ResourceId);
            }

            case VirtioGpuCtrlType.CMD_SET_SCANOUT:
            {
                if (!TryReadBody(in hdr, reader, out VirtioGpuSetScanout cmd))
                    return Truncated<VirtioGpuSetScanout>(reader);
                fields = Tracing ? $"scanout={cmd.ScanoutId} id={cmd.ResourceId} rect={cmd.R}" : null;
                return _backend.SetScanout(cmd.ScanoutId, cmd.ResourceId, cmd.R);
            }

            case VirtioGpuCtrlType.CMD_RESOURCE_FLUSH:
            {
                if (!TryReadBody(in hdr, reader, out VirtioGpuResourceFlush cmd))
                    return Truncated<VirtioGpuResourceFlush>(reader);
                fields = Tracing ? $"id={cmd.ResourceId} rect={cmd.R}" : null;
                return _backend.FlushResource(cmd.ResourceId, cmd.R);
            }

            case VirtioGpuCtrlType.CMD_TRANSFER_TO_HOST_2D:
            {
                if (!TryReadBody(in hdr, reader, out VirtioGpuTransferToHost2d cmd))
                    return Truncated<VirtioGpuTransferToHost2d>(reader);
                fields = Tracing ? $"id={cmd.ResourceId} rect={cmd.R} offset={cmd.Offset}" : null;
                return _backend.TransferToHost2D(memory, cmd.ResourceId, cmd.R, cmd.Offset);
            }

            case VirtioGpuCtrlType.CMD_RESOURCE_ATTACH_BACKING:
                return AttachBacking(in hdr, reader, memory, out fields);

            case VirtioGpuCtrlType.CMD_RESOURCE_DETACH_BACKING:
            {
                if (!TryReadBody(in hdr, reader, out VirtioGpuResourceDetachBacking cmd))
                    return Truncated<VirtioGpuResourceDetachBacking>(reader);
                fields = Tracing ? $"id={cmd.ResourceId}" : null;
                return _backend.DetachBacking(cmd.ResourceId);
            }

            case VirtioGpuCtrlType.CMD_GET_CAPSET_INFO or VirtioGpuCtrlType.CMD_GET_CAPSET
                or VirtioGpuCtrlType.CMD_RESOURCE_ASSIGN_UUID or VirtioGpuCtrlType.CMD_RESOURCE_CREATE_BLOB
                or VirtioGpuCtrlType.CMD_SET_SCANOUT_BLOB or VirtioGpuCtrlType.CMD_CTX_CREATE
                or VirtioGpuCtrlType.CMD_CTX_DESTROY or VirtioGpuCtrlType.CMD_CTX_ATTACH_RESOURCE
                or VirtioGpuCtrlType.CMD_CTX_DETACH_RESOURCE or VirtioGpuCtrlType.CMD_RESOURCE_CREATE_3D
                or VirtioGpuCtrlType.CMD_TRANSFER_TO_HOST_3D or VirtioGpuCtrlType.CMD_TRANSFER_FROM_HOST_3D
                or VirtioGpuCtrlType.CMD_SUBMIT_3D or VirtioGpuCtrlType.CMD_RESOURCE_MAP_BLOB
                or VirtioGpuCtrlType.CMD_RESOURCE_UNMAP_BLOB:
                return DispatchExtended(in hdr, reader, memory, out fields);

            case VirtioGpuCtrlType.CMD_UPDATE_CURSOR or VirtioGpuCtrlType.CMD_MOVE_CURSOR:
                return GpuResponse.ErrUnspec("cursor commands belong on the cursor queue");

            default:
                return Winsrv?.DispatchControl(in hdr, reader, out fields) ?? GpuResponse.ErrUnspec($"unknown command 0x{hdr.Type:x}");
        }
    }

    private GpuResponse AttachBacking(in VirtioGpuCtrlHdr hdr, DescriptorChainReader reader, GuestMemory memory, out string? fields)
    {
        fields = null;
        if (!TryReadBody(in hdr, reader, out VirtioGpuResourceAttachBacking cmd))
            return Truncated<VirtioGpuResourceAttachBacking>(reader);
        fields = Tracing ? $"id={cmd.ResourceId} entries={cmd.NrEntries}" : null;
        if (ReadEntries(cmd.NrEntries, reader, out var entries) is { } bad)
            return bad;
        return _backend.AttachBacking(memory, cmd.ResourceId, entries);
    }

    private GpuResponse DispatchCursor(in VirtioGpuCtrlHdr hdr, DescriptorChainReader reader, out string? fields)
    {
        fields = null;
        var type = (VirtioGpuCtrlType)hdr.Type;
        if (type is not (VirtioGpuCtrlType.CMD_UPDATE_CURSOR or VirtioGpuCtrlType.CMD_MOVE_CURSOR))
            return GpuResponse.ErrUnspec($"command 0x{hdr.Type:x} is not a cursor command");
        if (!TryReadBody(in hdr, reader, out VirtioGpuUpdateCursor cmd))
            return Truncated<VirtioGpuUpdateCursor>(reader);
        var pos = cmd.Pos;
        if (type == VirtioGpuCtrlType.CMD_MOVE_CURSOR)
        {
            fields = Tracing ? $"scanout={pos.ScanoutId} pos={(int)pos.X},{(int)pos.Y}" : null;
            return _backend.MoveCursor(in pos);
        }
        fields = Tracing ? $"scanout={pos.ScanoutId} id={cmd.ResourceId} pos={(int)pos.X},{(int)pos.Y} hot={cmd.HotX},{cmd.HotY}" : null;
        return _backend.UpdateCursor(in pos, cmd.ResourceId, cmd.HotX, cmd.HotY);
    }
}
