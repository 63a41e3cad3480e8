using MiniVmm.Gpu.Protocol;
using MiniVmm.Machine.Display;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Tests.Support;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Hostile;

/// <summary>
/// Issue 11 item 4: a scanout larger than the window can show. SET_SCANOUT refuses it, and a window that fails
/// anyway is closed and its scanout runs on headless instead of the exception reaching the device thread.
/// </summary>
[Collection(HostileCollection.Name)]
public sealed class ScanoutSizeTests
{
    [Fact]
    public void AScanoutWiderThanAWindowCanShowIsRefusedAtSetScanout()
    {
        using var weston = WestonCompositor.Start(640, 480);
        using var display = WaylandDisplay.Open(weston.SocketPath);
        using var h = new GpuHarness(sink: display);
        var bounds = HostBounds.Take();

        Assert.Equal(RESP_OK_NODATA, h.CreateResource(2, VirtioGpuFormat.B8G8R8X8_UNORM, 8193, 1).Type);
        var pages = h.AllocatePages(8193 * 4);
        Assert.Equal(RESP_OK_NODATA, h.AttachBacking(2, (pages.Value, 8193 * 4)).Type);
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, h.SetScanout(0, 2, GpuHarness.Rect(0, 0, 8193, 1)).Type);
        Assert.Equal(RESP_OK_NODATA, h.Flush(2, GpuHarness.Rect(0, 0, 8193, 1)).Type);
        // 8192 is what the window shows: accepted and presented.
        Assert.Equal(RESP_OK_NODATA, h.SetScanout(0, 2, GpuHarness.Rect(0, 0, 8192, 1)).Type);
        Assert.Equal(RESP_OK_NODATA, h.Flush(2, GpuHarness.Rect(0, 0, 8192, 1)).Type);

        Assert.Equal(ScanoutWindowState.Running, display.Window.State);
        HostBounds.AssertServes(h);
        bounds.AssertWithin(64L << 20);
    }

    [Fact]
    public void AWindowThatFailsOnAFrameLeavesTheScanoutHeadless()
    {
        using var weston = WestonCompositor.Start(640, 480);
        var log = new StringWriter();
        using var display = WaylandDisplay.Open(weston.SocketPath, log);
        var pixels = new byte[8193 * 4];

        // Past the window's limit: the display logs it and closes the window; nothing is thrown at the device.
        display.Present(0, pixels, 8193, 1, 8193 * 4, VirtioGpuFormat.B8G8R8X8_UNORM, new VirtioGpuRect(0, 0, 8193, 1));
        display.Present(0, pixels, 16, 1, 64, VirtioGpuFormat.B8G8R8X8_UNORM, new VirtioGpuRect(0, 0, 16, 1));
        display.Disable(0);

        Assert.Contains("scanout 0 is no longer shown", log.ToString(), StringComparison.Ordinal);
        Assert.Null(display.WindowFor(0));
    }
}
