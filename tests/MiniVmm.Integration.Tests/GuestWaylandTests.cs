using MiniVmm.Wayland.Tests.Support;

namespace MiniVmm.Integration.Tests;

/// <summary>
/// The whole window-server chain with nothing of ours standing in for the guest: the small kernel's own
/// virtio_gpu DRM driver, the guest proxy exactly as shipped (NativeAOT, in the wayland initramfs), and two
/// unmodified Debian clients run by /init (minivmm.wayland_clients=1): wayland-info, whose globals must equal a
/// native run's against the same Weston, and weston-simple-shm, whose window must show in Weston's screenshot.
/// On kvm_pvm hosts the guest's system calls complete thanks to the test kernel's patch
/// (docs/guest-syscalls-on-kvm-pvm.md); on hardware KVM the same test runs unchanged.
/// </summary>
[Collection("Weston")]
public sealed class GuestWaylandTests
{
    private const string ClientsPrefix = "MINIVMM-CLIENTS: ";

    [KvmFact]
    [Trait("Category", "Slow")]
    public void UnmodifiedClientsInALinuxGuestReachWestonThroughTheShippedProxy()
    {
        string kernel = GuestImages.Require("small-kernel");
        string initramfs = GuestImages.Require("wayland-initramfs");
        using var weston = WestonCompositor.Start(1024, 768, timeout: TimeSpan.FromMinutes(20));
        string native = RunNativeWaylandInfo(weston);

        // simple-shm runs for 20 s in the guest; its window is looked for while it runs.
        PngImage? shot = null;
        void OnConsoleLine(string line)
        {
            if (shot is null && line.StartsWith(ClientsPrefix + "weston-simple-shm start", StringComparison.Ordinal))
                shot = weston.TakeScreenshotWhen(s => WestonCompositor.ClientPixels(s) > 1000, TimeSpan.FromSeconds(18));
        }
        var result = MiniVmmProcess.Run(
            ["run", "--kernel", kernel, "--initrd", initramfs, "--gpu", "blob=on,contexts=on,hostmem=1G",
             "--display", "none", "--wayland-socket", weston.SocketPath,
             "--append", "minivmm.wayland=1 minivmm.wayland_clients=1 minivmm.test=1", "--timeout", "1020", "-v"],
            TimeSpan.FromSeconds(1080), onConsoleLine: OnConsoleLine);
        string console = result.Stdout;
        string context = $"exit {result.ExitCode}\nstderr: {result.Stderr}\nconsole tail:\n{MiniVmmProcess.Tail(console, 80)}";

        Assert.True(console.Contains("MINIVMM-INIT: /dev/dri/card0 present", StringComparison.Ordinal), context);
        // The proxy in the guest speaks through the kernel's DRM driver, never the host-side model.
        Assert.True(console.Contains("minivmm-guest-proxy: transport: DRM /dev/dri/card0", StringComparison.Ordinal), context);
        Assert.True(console.Contains(ClientsPrefix + "wayland-info exit 0", StringComparison.Ordinal), context);
        var guestGlobals = Globals(string.Join('\n', console.Split('\n')
            .Where(l => l.StartsWith(ClientsPrefix + "wayland-info: ", StringComparison.Ordinal))));
        Assert.NotEmpty(guestGlobals);
        Assert.True(Globals(native).SequenceEqual(guestGlobals),
            $"native:\n{native}\nin the guest:\n{string.Join('\n', guestGlobals)}\n{context}");

        Assert.True(console.Contains(ClientsPrefix + "weston-simple-shm was still running", StringComparison.Ordinal), context);
        Assert.True(shot is not null, "the guest never started weston-simple-shm\n" + context);
        int pixels = WestonCompositor.ClientPixels(shot);
        Assert.True(pixels > 1000, $"weston-simple-shm's window is not in Weston's screenshot ({pixels} client pixels)\n{context}");
        SaveScreenshot(shot, "guest-weston-simple-shm.png");

        // The proxy closes a client only when it is gone: /init kills simple-shm, and the proxy's next write to it fails
        // with EPIPE (errno 32). Any other reason is a failure of the chain.
        var closed = console.Split('\n').Where(l => l.Contains("closing it", StringComparison.Ordinal) && !l.Contains("errno 32", StringComparison.Ordinal));
        Assert.True(!closed.Any(), "the proxy closed a client: " + string.Join('\n', closed) + "\n" + context);
        Assert.True(result.ExitCode == 0 && result.Stderr.Contains("guest reset the machine (i8042", StringComparison.Ordinal), context);
    }

    private static string RunNativeWaylandInfo(WestonCompositor weston)
    {
        var result = WaylandInfoClient.Run(weston.RuntimeDirectory, weston.SocketPath, TimeSpan.FromSeconds(15));
        Assert.True(result.Finished && result.ExitCode == 0, $"native wayland-info: finished {result.Finished}, exit {result.ExitCode}: {result.Errors}");
        return result.Output;
    }

    private static List<(string Name, int Version)> Globals(string output) => WaylandInfoClient.Globals(output);

    /// <summary>Kept under artifacts/screenshots (git-ignored) for a person to look at.</summary>
    private static void SaveScreenshot(PngImage shot, string name)
    {
        string directory = Path.Combine(GuestImages.RepositoryRoot, "artifacts", "screenshots");
        Directory.CreateDirectory(directory);
        using var file = File.Create(Path.Combine(directory, name));
        MiniVmm.Gpu.PngWriter.Write(file, shot.Rgba, shot.Width, shot.Height);
    }
}
