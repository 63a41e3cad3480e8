using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace MiniVmm.Integration.Tests;

/// <summary>
/// Debian's gdb, in batch mode, debugs the small kernel through `--gdb PORT --gdb-wait`: a breakpoint on the
/// virtio-gpu driver's probe (its page is not mapped until the kernel's own page tables are up, so the stub
/// keeps it pending), continue, backtrace and RIP at the function, one instruction stepped (KVM_GUESTDBG_SINGLESTEP
/// with interrupts blocked), delete, detach; then the boot goes on
/// to busybox /init and its reboot as in <see cref="LinuxSmokeTests"/>.
/// </summary>
public sealed class GdbStubTests
{
    private const string Function = "virtio_gpu_probe";

    [KvmFact]
    [Trait("Category", "Slow")]
    public void GdbStopsTheSmallKernelInTheVirtioGpuProbeAndTheBootGoesOnAfterDetach()
    {
        Assert.True(File.Exists("/usr/bin/gdb"), "gdb is missing: run tools/deps.sh (Debian package gdb)");
        string kernel = GuestImages.Require("small-kernel");
        string vmlinux = GuestImages.Require("small-vmlinux");
        string initramfs = GuestImages.Require("initramfs");
        int port = FreePort();
        var vm = Task.Run(() => MiniVmmProcess.Run(
            ["run", "--kernel", kernel, "--initrd", initramfs, "--display", "none", "--append", "nokaslr minivmm.test=1",
             "--gdb", $"127.0.0.1:{port}", "--gdb-wait", "--timeout", "900", "-v"],
            TimeSpan.FromSeconds(960)));

        // gdb retries a refused connection until the VMM listens (tcp auto-retry is on by default).
        string script = Path.Combine(Path.GetTempPath(), $"minivmm-gdb-{Environment.ProcessId}.gdb");
        File.WriteAllLines(script,
        [
            "set pagination off", "set confirm off", "set tcp connect-timeout 120",
            $"target remote 127.0.0.1:{port}",
            $"printf \"FUNCTION=%lx\\n\", (unsigned long)&{Function}",
            $"break *{Function}", "continue", "bt",
            "printf \"RIP=%lx\\n\", $rip",
            "stepi", "printf \"STEPPED=%lx\\n\", $rip",
            "delete", "detach",
        ]);
        MiniVmmProcess.Result debug;
        try
        {
            debug = MiniVmmProcess.RunProgram("gdb", ["-batch", "-nx", "-x", script, vmlinux], TimeSpan.FromSeconds(900));
        }
        finally
        {
            File.Delete(script);
        }
        var boot = vm.GetAwaiter().GetResult();
        string context = $"gdb exit {debug.ExitCode}\ngdb stdout:\n{debug.Stdout}\ngdb stderr:\n{debug.Stderr}\n" +
                         $"minivmm exit {boot.ExitCode}\nstderr: {boot.Stderr}\nconsole tail:\n{MiniVmmProcess.Tail(boot.Stdout)}";

        Assert.True(debug.ExitCode == 0, context);
        ulong function = Value(debug.Stdout, "FUNCTION", context);
        Assert.True(debug.Stdout.Contains($"Breakpoint 1, 0x{function:x16} in {Function} ()", StringComparison.Ordinal), context);
        Assert.Matches($@"#0 +0x{function:x16} in {Function} \(\)", debug.Stdout);
        Assert.Equal(function, Value(debug.Stdout, "RIP", context));
        // One instruction further in the same function, not in the handler of an interrupt that was pending.
        ulong stepped = Value(debug.Stdout, "STEPPED", context);
        Assert.True(stepped > function && stepped - function <= 15, $"stepi went to 0x{stepped:x}\n{context}");
        Assert.True(debug.Stdout.Contains("detached", StringComparison.Ordinal), context);

        // After the detach the guest runs on: the driver finishes its probe and busybox /init reboots the VM.
        Assert.True(boot.Stdout.Contains("fb0: virtio_gpudrmfb frame buffer device", StringComparison.Ordinal), context);
        Assert.True(boot.Stdout.Contains("MINIVMM-INIT: 6.1", StringComparison.Ordinal), context);
        Assert.True(boot.ExitCode == 0, context);
        Assert.True(boot.Stderr.Contains("guest reset the machine (i8042", StringComparison.Ordinal), context);
    }

    private static ulong Value(string output, string name, string context)
    {
        var match = Regex.Match(output, $"^{name}=([0-9a-f]+)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"gdb printed no {name}=\n{context}");
        return ulong.Parse(match.Groups[1].Value, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
