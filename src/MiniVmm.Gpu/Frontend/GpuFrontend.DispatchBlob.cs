using System.Runtime.InteropServices;
using MiniVmm.Gpu.Backend;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Memory;
using MiniVmm.Virtio.Queue;

namespace MiniVmm.Gpu.Frontend;

/// <summary>Decoding of RESOURCE_CREATE_BLOB, SET_SCANOUT_BLOB, ASSIGN_UUID, MAP_BLOB and UNMAP_BLOB.</summary>
internal sealed partial class GpuFrontend
{
    private GpuResponse DispatchBlob(in VirtioGpuCtrlHdr hdr, DescriptorChainReader reader, GuestMemory memory, out string? fields)
    {
        fields = null;
        switch ((VirtioGpuCtrlType)hdr.Type)
        {
            case VirtioGpuCtrlType.CMD_RESOURCE_CREATE_BLOB:
            {
                if (!TryReadBody(in hdr, reader, out VirtioGpuResourceCreateBlob cmd))
                    return Truncated<VirtioGpuResourceCreateBlob>(reader);
                fields = Tracing
                    ? $"id={cmd.ResourceId} mem={cmd.BlobMem} flags=0x{cmd.BlobFlags:x} entries={cmd.NrEntries} blob_id={cmd.BlobId} size={cmd.Size}"
                    : null;
                if (ReadEntries(cmd.NrEntries, reader, out var entries) is { } bad)
                    return bad;
                // winsrv announces compositor fds (the keymap) as blob ids; a cross-domain context has its own.
                Microsoft.Win32.SafeHandles.SafeFileHandle? compositorFd = null;
                if (cmd.BlobMem == VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_HOST3D && Winsrv is { } winsrv
                    && _backend.GetCrossDomainContext(hdr.CtxId) is null
                    && winsrv.TryClaimHostFd(cmd.BlobId, cmd.Size, out compositorFd, out var claimError) && claimError is not null)
                {
                    return GpuResponse.ErrInvalidParameter(claimError);
                }
                return _backend.CreateBlob(memory, hdr.CtxId, cmd.ResourceId, cmd.BlobMem, cmd.BlobFlags, cmd.BlobId, cmd.Size, entries, compositorFd);
            }
            case VirtioGpuCtrlType.CMD_SET_SCANOUT_BLOB:
            {
                if (!TryReadBody(in hdr, reader, out VirtioGpuSetScanoutBlob cmd))
                    return Truncated<VirtioGpuSetScanoutBlob>(reader);
                fields = Tracing
                    ? $"scanout={cmd.ScanoutId} id={cmd.ResourceId} rect={cmd.R} fb={cmd.Width}x{cmd.Height} fmt={FormatName(cmd.Format)} stride={cmd.Strides[0]} offset={cmd.Offsets[0]}"
                    : null;
                return _backend.SetScanoutBlob(cmd.ScanoutId, cmd.ResourceId, cmd.R, cmd.Width, cmd.Height, cmd.Format, cmd.Strides[0], cmd.Offsets[0]);
            }
            case VirtioGpuCtrlType.CMD_RESOURCE_ASSIGN_UUID:
            {
                if (!TryReadBody(in hdr, reader, out VirtioGpuResourceAssignUuid cmd))
                    return Truncated<VirtioGpuResourceAssignUuid>(reader);
                fields = Tracing ? $"id={cmd.ResourceId}" : null;
                return _backend.AssignUuid(cmd.ResourceId);
            }
            case VirtioGpuCtrlType.CMD_RESOURCE_MAP_BLOB:
            {
                if (!TryReadBody(in hdr, reader, out VirtioGpuResourceMapBlob cmd))
                    return Truncated<VirtioGpuResourceMapBlob>(reader);
                fields = Tracing ? $"id={cmd.ResourceId} offset=0x{cmd.Offset:x}" : null;
                return _backend.MapBlob(cmd.ResourceId, cmd.Offset);
            }
            case VirtioGpuCtrlType.CMD_RESOURCE_UNMAP_BLOB:
            {
                if (!TryReadBody(in hdr, reader, out VirtioGpuResourceUnmapBlob cmd))
                    return Truncated<VirtioGpuResourceUnmapBlob>(reader);
                fields = Tracing ? $"id={cmd.ResourceId}" : null;
                return _backend.UnmapBlob(cmd.ResourceId);
            }
            default:
                return GpuResponse.ErrUnspec($"unknown command 0x{hdr.Type:x}");
        }
    }

    /// <summary>Reads <paramref name="count"/> mem entries, capping the guest's count by the bytes it actually sent first.</summary>
    private GpuResponse? ReadEntries(uint count, DescriptorChainReader reader, out VirtioGpuMemEntry[] entries)
    {
        entries = [];
        uint present = reader.Remaining / (uint)System.Runtime.CompilerServices.Unsafe.SizeOf<VirtioGpuMemEntry>();
        if (count > present)
            return GpuResponse.ErrInvalidParameter($"nr_entries {count} but only {present} entries follow");
        if (count > VirtioGpuBackend.MaxBackingEntries)
            return GpuResponse.ErrInvalidParameter($"nr_entries {count} is more than {VirtioGpuBackend.MaxBackingEntries}");
        if (_backend.RefuseBackingEntries(count) is { } refused)
            return refused; // before reading them: a flood of tables the budget refuses costs no host allocation
        entries = new VirtioGpuMemEntry[count];
        return reader.TryReadBytes(MemoryMarshal.AsBytes(entries.AsSpan())) ? null : GpuResponse.ErrUnspec("mem entries could not be read");
    }
}
