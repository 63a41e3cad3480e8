using MiniVmm.Gpu.Protocol;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests;

public sealed class DisplayCommandTests
{
    [Fact]
    public void DisplayInfoReportsScanoutZeroAtTheConfiguredSize()
    {
        using var h = new GpuHarness(new GpuOptions { Width = 1280, Height = 800, Scanouts = 2 });
        var reply = h.GetDisplayInfo();
        Assert.Equal(RESP_OK_DISPLAY_INFO, reply.Type);
        Assert.Equal(408u, reply.UsedLength);
        var info = reply.As<VirtioGpuRespDisplayInfo>();
        Assert.Equal("0,0 1280x800", info.Pmodes[0].R.ToString());
        Assert.Equal(1u, info.Pmodes[0].Enabled);
        Assert.Equal(0u, info.Pmodes[1].Enabled);
        Assert.Equal(0u, info.Pmodes[2].R.Width); // beyond num_scanouts: all zero
    }

    [Fact]
    public void EdidIsTheBaseBlockForTheConfiguredMode()
    {
        using var h = new GpuHarness(new GpuOptions { Width = 1920, Height = 1080 });
        var reply = h.GetEdid(0);
        Assert.Equal(RESP_OK_EDID, reply.Type);
        Assert.Equal(1056u, reply.UsedLength);
        var edid = reply.As<VirtioGpuRespEdid>();
        Assert.Equal(128u, edid.Size);
        byte[] block = ((ReadOnlySpan<byte>)edid.Edid)[..128].ToArray();
        Assert.Equal(0, block.Sum(b => b) % 256);
        Assert.Equal((1920, 1080), (EdidTests.PreferredMode(block).Width, EdidTests.PreferredMode(block).Height));
        Assert.All(((ReadOnlySpan<byte>)edid.Edid)[128..].ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void EdidForAnUnknownScanoutIsInvalid()
    {
        using var h = new GpuHarness();
        Assert.Equal(RESP_ERR_INVALID_SCANOUT_ID, h.GetEdid(1).Type);
    }

    [Fact]
    public void EdidOffIsNotOfferedNorAnswered()
    {
        using var h = new GpuHarness(new GpuOptions { Edid = false });
        Assert.Equal(0UL, h.Device.DeviceFeatures);
        Assert.Equal(RESP_ERR_UNSPEC, h.GetEdid(0).Type);
    }

    [Theory]
    [InlineData(CMD_GET_CAPSET_INFO)]
    [InlineData(CMD_GET_CAPSET)]
    [InlineData(CMD_RESOURCE_ASSIGN_UUID)]
    [InlineData(CMD_RESOURCE_CREATE_BLOB)]
    [InlineData(CMD_SET_SCANOUT_BLOB)]
    [InlineData(CMD_CTX_CREATE)]
    [InlineData(CMD_CTX_DESTROY)]
    [InlineData(CMD_CTX_ATTACH_RESOURCE)]
    [InlineData(CMD_CTX_DETACH_RESOURCE)]
    [InlineData(CMD_RESOURCE_CREATE_3D)]
    [InlineData(CMD_TRANSFER_TO_HOST_3D)]
    [InlineData(CMD_TRANSFER_FROM_HOST_3D)]
    [InlineData(CMD_SUBMIT_3D)]
    [InlineData(CMD_RESOURCE_MAP_BLOB)]
    [InlineData(CMD_RESOURCE_UNMAP_BLOB)]
    [InlineData(CMD_UPDATE_CURSOR)] // on the control queue
    [InlineData(CMD_MOVE_CURSOR)]
    [InlineData((VirtioGpuCtrlType)0x0999)]
    [InlineData(RESP_OK_NODATA)]
    public void UnsupportedAndUnknownCommandsAreUnspecErrors(VirtioGpuCtrlType type)
    {
        using var h = new GpuHarness();
        var request = new byte[96];
        GpuHarness.Bytes(GpuHarness.Hdr(type)).CopyTo(request, 0);
        var reply = h.SubmitBytes(request);
        Assert.Equal(RESP_ERR_UNSPEC, reply.Type);
        Assert.Equal(24u, reply.UsedLength);
        // ... and the device keeps serving.
        Assert.Equal(RESP_OK_DISPLAY_INFO, h.GetDisplayInfo().Type);
    }
}
