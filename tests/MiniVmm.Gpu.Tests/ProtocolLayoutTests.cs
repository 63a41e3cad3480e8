using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MiniVmm.Gpu.Protocol;

namespace MiniVmm.Gpu.Tests;

/// <summary>Sizes and offsets from the reference (checked with gcc against Linux 6.1's virtio_gpu.h).</summary>
public sealed class ProtocolLayoutTests
{
    private static void Size<T>(int expected) where T : unmanaged => Assert.Equal(expected, Unsafe.SizeOf<T>());

    [Fact] public void CtrlHdr() => Size<VirtioGpuCtrlHdr>(24);
    [Fact] public void Rect() => Size<VirtioGpuRect>(16);
    [Fact] public void DisplayOne() => Size<VirtioGpuDisplayOne>(24);
    [Fact] public void RespDisplayInfo() => Size<VirtioGpuRespDisplayInfo>(408);
    [Fact] public void ResourceCreate2d() => Size<VirtioGpuResourceCreate2d>(40);
    [Fact] public void ResourceUnref() => Size<VirtioGpuResourceUnref>(32);
    [Fact] public void SetScanout() => Size<VirtioGpuSetScanout>(48);
    [Fact] public void ResourceFlush() => Size<VirtioGpuResourceFlush>(48);
    [Fact] public void TransferToHost2d() => Size<VirtioGpuTransferToHost2d>(56);
    [Fact] public void MemEntry() => Size<VirtioGpuMemEntry>(16);
    [Fact] public void ResourceAttachBacking() => Size<VirtioGpuResourceAttachBacking>(32);
    [Fact] public void ResourceDetachBacking() => Size<VirtioGpuResourceDetachBacking>(32);
    [Fact] public void GetCapsetInfo() => Size<VirtioGpuGetCapsetInfo>(32);
    [Fact] public void RespCapsetInfo() => Size<VirtioGpuRespCapsetInfo>(40);
    [Fact] public void GetCapset() => Size<VirtioGpuGetCapset>(32);
    [Fact] public void CmdGetEdid() => Size<VirtioGpuCmdGetEdid>(32);
    [Fact] public void RespEdid() => Size<VirtioGpuRespEdid>(1056);
    [Fact] public void ResourceAssignUuid() => Size<VirtioGpuResourceAssignUuid>(32);
    [Fact] public void RespResourceUuid() => Size<VirtioGpuRespResourceUuid>(40);
    [Fact] public void ResourceCreateBlob() => Size<VirtioGpuResourceCreateBlob>(56);
    [Fact] public void SetScanoutBlob() => Size<VirtioGpuSetScanoutBlob>(96);
    [Fact] public void CtxCreate() => Size<VirtioGpuCtxCreate>(96);
    [Fact] public void CtxDestroy() => Size<VirtioGpuCtxDestroy>(24);
    [Fact] public void CtxResource() => Size<VirtioGpuCtxResource>(32);
    [Fact] public void ResourceCreate3d() => Size<VirtioGpuResourceCreate3d>(72);
    [Fact] public void Box() => Size<VirtioGpuBox>(24);
    [Fact] public void TransferHost3d() => Size<VirtioGpuTransferHost3d>(72);
    [Fact] public void CmdSubmit() => Size<VirtioGpuCmdSubmit>(32);
    [Fact] public void ResourceMapBlob() => Size<VirtioGpuResourceMapBlob>(40);
    [Fact] public void RespMapInfo() => Size<VirtioGpuRespMapInfo>(32);
    [Fact] public void ResourceUnmapBlob() => Size<VirtioGpuResourceUnmapBlob>(32);
    [Fact] public void CursorPos() => Size<VirtioGpuCursorPos>(16);
    [Fact] public void UpdateCursor() => Size<VirtioGpuUpdateCursor>(56);
    [Fact] public void Config() => Size<VirtioGpuConfig>(16);

    [Theory]
    [InlineData(typeof(VirtioGpuCtrlHdr), "FenceId", 8)]
    [InlineData(typeof(VirtioGpuCtrlHdr), "CtxId", 16)]
    [InlineData(typeof(VirtioGpuCtrlHdr), "RingIdx", 20)]
    [InlineData(typeof(VirtioGpuSetScanout), "ScanoutId", 40)]
    [InlineData(typeof(VirtioGpuTransferToHost2d), "Offset", 40)]
    [InlineData(typeof(VirtioGpuTransferToHost2d), "ResourceId", 48)]
    [InlineData(typeof(VirtioGpuRespEdid), "Edid", 32)]
    [InlineData(typeof(VirtioGpuResourceCreateBlob), "BlobId", 40)]
    [InlineData(typeof(VirtioGpuResourceCreateBlob), "Size", 48)]
    [InlineData(typeof(VirtioGpuSetScanoutBlob), "Strides", 64)]
    [InlineData(typeof(VirtioGpuSetScanoutBlob), "Offsets", 80)]
    [InlineData(typeof(VirtioGpuCtxCreate), "DebugName", 32)]
    [InlineData(typeof(VirtioGpuTransferHost3d), "Offset", 48)]
    [InlineData(typeof(VirtioGpuTransferHost3d), "ResourceId", 56)]
    [InlineData(typeof(VirtioGpuResourceMapBlob), "Offset", 32)]
    [InlineData(typeof(VirtioGpuUpdateCursor), "ResourceId", 40)]
    [InlineData(typeof(VirtioGpuUpdateCursor), "HotY", 48)]
    public void FieldOffsets(Type type, string field, int offset) =>
        Assert.Equal(offset, (int)Marshal.OffsetOf(type, field));

    [Theory]
    [InlineData(VirtioGpuCtrlType.CMD_GET_DISPLAY_INFO, 0x0100)]
    [InlineData(VirtioGpuCtrlType.CMD_SET_SCANOUT_BLOB, 0x010d)]
    [InlineData(VirtioGpuCtrlType.CMD_RESOURCE_UNMAP_BLOB, 0x0209)]
    [InlineData(VirtioGpuCtrlType.CMD_MOVE_CURSOR, 0x0301)]
    [InlineData(VirtioGpuCtrlType.RESP_OK_MAP_INFO, 0x1106)]
    [InlineData(VirtioGpuCtrlType.RESP_ERR_INVALID_PARAMETER, 0x1205)]
    public void CommandCodes(VirtioGpuCtrlType type, uint value) => Assert.Equal(value, (uint)type);
}
