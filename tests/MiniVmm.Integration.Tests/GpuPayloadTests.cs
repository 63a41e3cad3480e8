using System.Runtime.CompilerServices;
using MiniVmm.Boot;
using MiniVmm.Firmware;
using MiniVmm.Gpu;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Virtio.Transport;

namespace MiniVmm.Integration.Tests;

/// <summary>
/// The real <see cref="VirtioGpuDevice"/> behind the real virtio-pci transport on /dev/kvm, driven by a guest
/// payload: conf1 enumeration of 1af4:1050, the virtio capabilities, num_scanouts from the device config,
/// VERSION_1 + EDID, controlq, and GET_DISPLAY_INFO answered through an ioeventfd notify and an MSI-X interrupt.
/// </summary>
public sealed class GpuPayloadTests
{
    // Not the 1024x768 default, so the payload can only pass if the options reach the guest.
    private static readonly GpuOptions Options = new() { Width = 800, Height = 600 };

    [KvmFact]
    public void GuestGetsTheConfiguredDisplayInfoWithAnMsixInterrupt()
    {
        var device = new VirtioGpuDevice(Options);
        var result = PciMachineRunner.Run(KernelImage.Parse(GpuPayloads.DisplayInfo(Options.Width, Options.Height), "gpu-payload"),
            device, "", TimeSpan.FromSeconds(60));

        Assert.True(result.Reason.ExitCode == 0, $"{result.Reason.Description}\nconsole: {result.Console}");
        Assert.Contains("GPU OK", result.Console);
        Assert.Equal(0x0F, result.Status); // ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK
        Assert.Equal((1UL << VirtioPciConstants.VIRTIO_F_VERSION_1) | (1UL << VirtioGpuConstants.VIRTIO_GPU_F_EDID), device.NegotiatedFeatures);
        Assert.True(result.IoEventsAssigned);
        Assert.Equal(0, result.MmioNotifies);
        Assert.Equal(1, result.IrqfdsAssigned);
    }

    [KvmFact]
    public void WrongExpectedSizeFailsWithTheWidthCode()
    {
        var result = PciMachineRunner.Run(KernelImage.Parse(GpuPayloads.DisplayInfo(Options.Width + 1, Options.Height), "gpu-payload"),
            new VirtioGpuDevice(Options), "", TimeSpan.FromSeconds(60));

        Assert.True(result.Reason.ExitCode == GpuPayloads.FailWidth, $"{result.Reason.Description}\nconsole: {result.Console}");
        Assert.Contains($"FAIL {GpuPayloads.FailWidth}", result.Console);
    }

    /// <summary>The firmware cannot see the device project, so its copies of the wire layout are checked here.</summary>
    [KvmFact]
    public void PayloadLayoutMatchesTheDeviceProtocol()
    {
        Assert.Equal(VirtioGpuConstants.VIRTIO_ID_GPU, GpuPayloads.GpuDeviceType);
        Assert.Equal(VirtioGpuConstants.VIRTIO_GPU_F_EDID, GpuPayloads.FeatureEdid);
        Assert.Equal((uint)VirtioGpuCtrlType.CMD_GET_DISPLAY_INFO, GpuPayloads.CmdGetDisplayInfo);
        Assert.Equal((uint)VirtioGpuCtrlType.RESP_OK_DISPLAY_INFO, GpuPayloads.RespOkDisplayInfo);
        Assert.Equal((int)GpuPayloads.CtrlHdrLength, Unsafe.SizeOf<VirtioGpuCtrlHdr>());
        Assert.Equal((int)GpuPayloads.DisplayInfoLength, Unsafe.SizeOf<VirtioGpuRespDisplayInfo>());
    }
}
