using MiniVmm.Kvm;

namespace MiniVmm.Integration.Tests;

/// <summary>
/// Boots the small Debian-source kernel with the busybox initramfs under the real CLI. On this
/// project's software (kvm_pvm) KVM hosts guest user mode cannot make system calls, so the boot
/// ends at the kernel's hand-over to /init and MiniVmm's own diagnosis (about a minute); on
/// hardware KVM the same test goes on to the /init marker and the guest's clean reboot.
/// </summary>
public sealed class LinuxSmokeTests
{
    private const string HandOver = "Run /init as init process";

    [Fact]
    [Trait("Category", "Slow")]
    public void TheSmallKernelBootsToInit()
    {
        string kernel = GuestImages.Require("small-kernel");
        string initramfs = GuestImages.Require("initramfs");
        var result = MiniVmmProcess.Run(
            ["run", "--kernel", kernel, "--initrd", initramfs, "--append", "minivmm.test=1", "--timeout", "420"],
            TimeSpan.FromSeconds(480));
        string console = result.Stdout;
        string context = $"exit {result.ExitCode}\nstderr: {result.Stderr}\nconsole tail:\n{MiniVmmProcess.Tail(console)}";

        Assert.True(console.Contains("Linux version 6.1", StringComparison.Ordinal), context);
        Assert.True(console.Contains("found SMP MP-table", StringComparison.Ordinal), context);
        Assert.True(console.Contains(HandOver, StringComparison.Ordinal), context);
        if (KvmSystem.IsPvmHost)
        {
            // /init dies on its first syscall here; MiniVmm must say so in its own words, exit 1.
            Assert.True(result.ExitCode == 1, context);
            Assert.Contains("handed over to /init", result.Stderr);
            Assert.Contains("kvm_pvm", result.Stderr);
        }
        else
        {
            Assert.True(console.Contains("MINIVMM-INIT: ", StringComparison.Ordinal), context);
            Assert.True(result.ExitCode == 0, context);
        }
    }
}
