using MiniVmm.Gpu.Protocol;
using MiniVmm.TestSupport;
using MiniVmm.Virtio;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests;

public sealed class DeviceConfigTests
{
    private static uint ReadU32(VirtioGpuDevice device, uint offset)
    {
        var bytes = new byte[4];
        device.ReadConfig(offset, bytes);
        return BitConverter.ToUInt32(bytes);
    }

    [Fact]
    public void IdentityQueuesAndFeatures()
    {
        var device = new VirtioGpuDevice(new GpuOptions());
        Assert.Equal(16u, device.DeviceType);
        Assert.Equal([256, 16], device.QueueMaxSizes);
        Assert.Equal(1UL << VirtioGpuConstants.VIRTIO_GPU_F_EDID, device.DeviceFeatures);
    }

    [Fact]
    public void ConfigSpaceLayout()
    {
        var device = new VirtioGpuDevice(new GpuOptions { Scanouts = 3 });
        Assert.Equal(0u, ReadU32(device, 0));  // events_read
        Assert.Equal(0u, ReadU32(device, 4));  // events_clear
        Assert.Equal(3u, ReadU32(device, 8));  // num_scanouts
        Assert.Equal(0u, ReadU32(device, 12)); // num_capsets
        var tail = new byte[4] { 1, 1, 1, 1 };
        device.ReadConfig(14, tail); // runs past the end: the rest reads as zero
        Assert.Equal([0, 0, 0, 0], tail);
        var single = new byte[1];
        device.ReadConfig(8, single);
        Assert.Equal(3, single[0]);
    }

    [Fact]
    public void DisplayEventIsReadThenClearedByWritingOne()
    {
        using var h = new GpuHarness();
        h.Device.NotifyDisplayChanged();
        Assert.Equal(1, h.Interrupt.ConfigChanges);
        Assert.Equal(VirtioGpuConstants.VIRTIO_GPU_EVENT_DISPLAY, ReadU32(h.Device, 0));
        h.Device.WriteConfig(4, BitConverter.GetBytes(0u)); // writing 0 clears nothing
        Assert.Equal(1u, ReadU32(h.Device, 0));
        h.Device.WriteConfig(0, BitConverter.GetBytes(0xFFFF_FFFFu)); // events_read is read-only
        Assert.Equal(1u, ReadU32(h.Device, 0));
        h.Device.WriteConfig(4, BitConverter.GetBytes(VirtioGpuConstants.VIRTIO_GPU_EVENT_DISPLAY));
        Assert.Equal(0u, ReadU32(h.Device, 0));
    }

    [Fact]
    public void ResetDropsEverythingAndForgetsTheQueues()
    {
        using var h = new GpuHarness();
        h.CreateBackedResource(2, 16, 16);
        Assert.Equal(RESP_OK_NODATA, h.SetScanout(0, 2, GpuHarness.Rect(0, 0, 16, 16)).Type);
        h.Device.NotifyDisplayChanged();
        h.Device.Reset();
        Assert.Equal(0, h.Device.Backend.ResourceCount);
        Assert.Equal(0, h.Device.Backend.HostBytes);
        Assert.Null(h.Device.Scanouts[0].Capture());
        Assert.Equal(0u, ReadU32(h.Device, 0));
        Assert.Equal([0], h.Sink.Disabled);

        // A notify after reset touches nothing; after re-activation the same id can be created again.
        h.Control.AddChain(MockBuffer.Readable(GpuHarness.Bytes(GpuHarness.Hdr(CMD_GET_DISPLAY_INFO))), MockBuffer.WritableSpace(408));
        h.Device.QueueNotify(0);
        Assert.Empty(h.Control.TakeUsed());
        h.Device.Activate(new VirtioActivation(0, [h.Control.CreateQueue(), h.Cursor.CreateQueue()], h.Interrupt));
        h.Device.QueueNotify(0);
        Assert.Single(h.Control.TakeUsed());
    }

    [Fact]
    public void NotificationBeforeActivationIsIgnored()
    {
        var device = new VirtioGpuDevice(new GpuOptions());
        device.QueueNotify(0);
        device.NotifyDisplayChanged(); // no interrupt yet: only the event bit is set
        Assert.Equal(1u, ReadU32(device, 0));
    }
}
