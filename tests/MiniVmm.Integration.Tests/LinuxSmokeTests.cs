using MiniVmm.Kvm;
using MiniVmm.Wayland.Tests.Support;

namespace MiniVmm.Integration.Tests;

/// <summary>
/// Boots the small Debian-source kernel with the busybox initramfs under the real CLI, with the
/// virtio-gpu scanout shown in a window on a real (headless) Weston: PCI, the virtio-gpu probe and its
/// feature line, the mode from our EDID, fbcon drawing on the scanout, then busybox /init's marker lines
/// and a clean reboot. On this project's software (kvm_pvm) KVM hosts guest system calls only complete
/// because the small kernel carries MiniVmm's test-kernel patch (docs/guest-syscalls-on-kvm-pvm.md); the
/// same assertions hold on hardware KVM, where the patch is inert.
/// </summary>
[Collection("Weston")]
public sealed class LinuxSmokeTests
{
    private const string HandOver = "Run /init as init process";

    [KvmFact]
    [Trait("Category", "Slow")]
    public void TheSmallKernelBootsToInitWithItsConsoleOnTheVirtioGpuScanout()
    {
        string kernel = GuestImages.Require("small-kernel");
        string initramfs = GuestImages.Require("initramfs");
        using var weston = WestonCompositor.Start(1600, 1000, timeout: TimeSpan.FromMinutes(10));
        // Kept under artifacts/ (git-ignored): the README's screenshot comes from here.
        string screenshot = Path.Combine(GuestImages.RepositoryRoot, "artifacts", "screenshots", "linux-fbcon.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        // Weston's screenshot must be taken while the window is up: a few seconds after fbcon takes over,
        // while the kernel is still freeing init memory (the VM ends soon after the hand-over to /init).
        PngImage? onWeston = null;
        void OnConsoleLine(string line)
        {
            if (onWeston is null && line.Contains("Freeing unused kernel image", StringComparison.Ordinal))
                onWeston = weston.TakeScreenshot();
        }
        var result = MiniVmmProcess.Run(
            ["run", "--kernel", kernel, "--initrd", initramfs, "--gpu", "width=1280,height=800,blob=on,contexts=on,hostmem=256M",
             "--display", "wayland", "--wayland-socket", weston.SocketPath, "--screenshot-on-exit", screenshot,
             "--append", "console=tty0 console=ttyS0 minivmm.test=1", "--timeout", "480", "-v"],
            TimeSpan.FromSeconds(540), onConsoleLine: OnConsoleLine);
        string console = result.Stdout;
        string context = $"exit {result.ExitCode}\nstderr: {result.Stderr}\nconsole tail:\n{MiniVmmProcess.Tail(console)}";

        Assert.True(console.Contains("Linux version 6.1", StringComparison.Ordinal), context);
        Assert.True(console.Contains("found SMP MP-table", StringComparison.Ordinal), context);
        Assert.True(console.Contains("[1af4:1050] type 00 class 0x038000", StringComparison.Ordinal), context);
        // Everything the mainline driver can use: 3D contexts (needed for cross-domain), blobs, the host-visible BAR.
        Assert.True(console.Contains("[drm] features: +virgl +edid +resource_blob +host_visible", StringComparison.Ordinal), context);
        Assert.True(console.Contains("[drm] features: +context_init", StringComparison.Ordinal), context);
        Assert.True(console.Contains("[drm] number of cap sets: 1", StringComparison.Ordinal), context);
        Assert.DoesNotContain("Could not reserve host visible region", console);
        Assert.True(console.Contains("fb0: virtio_gpudrmfb frame buffer device", StringComparison.Ordinal), context);
        // 1280x800 from our EDID with the 8x16 font: fbcon's text grid is 160x50.
        Assert.True(console.Contains("frame buffer device 160x50", StringComparison.Ordinal), context);
        Assert.True(console.Contains(HandOver, StringComparison.Ordinal), context);
        // --input defaults to on with a window: the guest's virtio_input driver probes both devices.
        Assert.True(console.Contains("input: MiniVmm Keyboard as", StringComparison.Ordinal), context);
        Assert.True(console.Contains("input: MiniVmm Tablet as", StringComparison.Ordinal), context);
        // On kvm_pvm hosts too: the small kernel carries images/kernel/patches/0001-x86-entry-finish-pvm-syscall.patch,
        // so /init's system calls complete there and it reboots the VM itself.
        Assert.True(console.Contains("MINIVMM-INIT: 6.1", StringComparison.Ordinal), context);
        Assert.True(console.Contains("MINIVMM-INIT: /dev/dri/card0 present", StringComparison.Ordinal), context);
        Assert.True(result.ExitCode == 0, context);
        Assert.True(result.Stderr.Contains("guest reset the machine (i8042", StringComparison.Ordinal), context); // /init's reboot -f

        // fbcon drew the kernel log: light text on black, on our scanout and in Weston's window.
        var scanout = PngImage.Load(screenshot);
        Assert.Equal((1280, 800), (scanout.Width, scanout.Height));
        Assert.True(TextPixels(scanout) > 5000, $"the scanout is blank ({TextPixels(scanout)} text pixels)\n{context}");
        Assert.True(onWeston is not null, "the console never printed 'Freeing unused kernel image', so Weston was not captured\n" + context);
        Assert.True(TextPixels(onWeston) > 5000, $"Weston's screenshot shows no guest text ({TextPixels(onWeston)} text pixels)\n{context}");
    }

    /// <summary>fbcon's default grey text (0xAA) on black.</summary>
    private static int TextPixels(PngImage image)
    {
        int count = 0;
        for (int i = 0; i < image.Rgba.Length; i += 4)
        {
            if (image.Rgba[i] == 0xAA && image.Rgba[i + 1] == 0xAA && image.Rgba[i + 2] == 0xAA)
                count++;
        }
        return count;
    }
}
