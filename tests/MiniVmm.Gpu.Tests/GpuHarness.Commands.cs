using MiniVmm.Gpu.Protocol;
using MiniVmm.Memory;

namespace MiniVmm.Gpu.Tests;

/// <summary>One helper per command, filled the way Linux fills it.</summary>
internal sealed partial class GpuHarness
{
    public Reply CreateResource(uint id, VirtioGpuFormat format, uint width, uint height) =>
        CreateResource(id, (uint)format, width, height);

    public Reply CreateResource(uint id, uint format, uint width, uint height) =>
        Submit(new VirtioGpuResourceCreate2d
        {
            Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_CREATE_2D),
            ResourceId = id,
            Format = format,
            Width = width,
            Height = height,
        });

    public Reply Unref(uint id) =>
        Submit(new VirtioGpuResourceUnref { Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_UNREF), ResourceId = id });

    /// <summary>ATTACH_BACKING with the entries in a second readable descriptor (virtio_gpu_cmd_resource_attach_backing).</summary>
    public Reply AttachBacking(uint id, params (ulong Addr, uint Length)[] entries) =>
        AttachBacking(id, (uint)entries.Length, entries);

    public Reply AttachBacking(uint id, uint nrEntries, (ulong Addr, uint Length)[] entries, Layout layout = Layout.Linux)
    {
        var bytes = new byte[16 * entries.Length];
        for (int i = 0; i < entries.Length; i++)
        {
            var entry = new VirtioGpuMemEntry { Addr = entries[i].Addr, Length = entries[i].Length };
            Bytes(in entry).CopyTo(bytes, 16 * i);
        }
        return Submit(new VirtioGpuResourceAttachBacking
        {
            Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_ATTACH_BACKING),
            ResourceId = id,
            NrEntries = nrEntries,
        }, extra: bytes, layout: layout);
    }

    public Reply DetachBacking(uint id) =>
        Submit(new VirtioGpuResourceDetachBacking { Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_DETACH_BACKING), ResourceId = id });

    /// <summary>Creates a resource and backs it with guest pages, one 4 KiB entry per page like a shmem dumb buffer.</summary>
    public GuestAddress CreateBackedResource(uint id, uint width, uint height, VirtioGpuFormat format = VirtioGpuFormat.B8G8R8X8_UNORM)
    {
        Assert.Equal(VirtioGpuCtrlType.RESP_OK_NODATA, CreateResource(id, format, width, height).Type);
        ulong size = (ulong)width * height * 4;
        var pages = AllocatePages(size);
        var entries = new List<(ulong, uint)>();
        for (ulong offset = 0; offset < size; offset += 4096)
            entries.Add((pages.Value + offset, (uint)Math.Min(4096, size - offset)));
        Assert.Equal(VirtioGpuCtrlType.RESP_OK_NODATA, AttachBacking(id, [.. entries]).Type);
        return pages;
    }

    public Reply Transfer(uint id, VirtioGpuRect r, ulong offset, ulong? fence = null) =>
        Submit(new VirtioGpuTransferToHost2d
        {
            Hdr = Hdr(VirtioGpuCtrlType.CMD_TRANSFER_TO_HOST_2D, fence),
            R = r,
            Offset = offset,
            ResourceId = id,
        });

    public Reply SetScanout(uint scanoutId, uint resourceId, VirtioGpuRect r) =>
        Submit(new VirtioGpuSetScanout
        {
            Hdr = Hdr(VirtioGpuCtrlType.CMD_SET_SCANOUT),
            R = r,
            ScanoutId = scanoutId,
            ResourceId = resourceId,
        });

    public Reply Flush(uint id, VirtioGpuRect r) =>
        Submit(new VirtioGpuResourceFlush { Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_FLUSH), R = r, ResourceId = id });

    public Reply GetDisplayInfo(int responseSize = 408) =>
        Submit(Hdr(VirtioGpuCtrlType.CMD_GET_DISPLAY_INFO), responseSize);

    public Reply GetEdid(uint scanout, int responseSize = 1056) =>
        Submit(new VirtioGpuCmdGetEdid { Hdr = Hdr(VirtioGpuCtrlType.CMD_GET_EDID), Scanout = scanout }, responseSize);

    public Reply UpdateCursor(uint scanout, uint resourceId, uint x, uint y, uint hotX = 0, uint hotY = 0,
        VirtioGpuCtrlType type = VirtioGpuCtrlType.CMD_UPDATE_CURSOR) =>
        SubmitCursor(new VirtioGpuUpdateCursor
        {
            Hdr = Hdr(type),
            Pos = new VirtioGpuCursorPos { ScanoutId = scanout, X = x, Y = y },
            ResourceId = resourceId,
            HotX = hotX,
            HotY = hotY,
        }, responseSize: 24);

    public static VirtioGpuRect Rect(uint x, uint y, uint width, uint height) => new(x, y, width, height);
}
