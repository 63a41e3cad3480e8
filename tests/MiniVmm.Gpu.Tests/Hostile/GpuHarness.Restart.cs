using MiniVmm.Virtio;

namespace MiniVmm.Gpu.Tests;

internal sealed partial class GpuHarness
{
    /// <summary>What a driver does once the device set DEVICE_NEEDS_RESET: reset, fresh rings, activate again.</summary>
    public void ResetAndReactivate()
    {
        Device.Reset();
        Control.Restart();
        Cursor.Restart();
        Device.Activate(new VirtioActivation(Device.DeviceFeatures | (1UL << 32), [Control.CreateQueue(), Cursor.CreateQueue()], Interrupt));
    }
}
