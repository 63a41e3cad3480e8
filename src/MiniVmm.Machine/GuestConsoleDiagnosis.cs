using System.Text;

namespace MiniVmm.Machine;

/// <summary>
/// Turns what the guest printed before it died into MiniVmm's own one-paragraph diagnosis: what
/// stopped the guest and why, in terms of this host, instead of leaving the user with a bare panic.
/// </summary>
public static class GuestConsoleDiagnosis
{
    public const string PanicMarker = "Kernel panic - not syncing";
    public const string InitHandOver = "Run /init as init process";
    public const string PanicEnd = "---[ end Kernel panic";

    public static string ForPanic(IReadOnlyList<string> recentLines, bool pvmHost)
    {
        string panicLine = recentLines.LastOrDefault(l => l.Contains(PanicMarker, StringComparison.Ordinal) && !l.Contains(PanicEnd, StringComparison.Ordinal)) ?? PanicMarker;
        string reason = panicLine[(panicLine.IndexOf(PanicMarker, StringComparison.Ordinal) + PanicMarker.Length)..].TrimStart(':', ' ');
        bool reachedInit = recentLines.Any(l => l.Contains(InitHandOver, StringComparison.Ordinal));
        var text = new StringBuilder();
        text.Append($"the guest kernel panicked: \"{reason}\". ");
        if (pvmHost && reachedInit && reason.Contains("init", StringComparison.OrdinalIgnoreCase))
        {
            text.Append("The kernel booted and handed over to /init, and /init died on its first system call. ")
                .Append("That is this host, not your kernel: /dev/kvm here is kvm_pvm, a software KVM that leaves a guest ")
                .Append("SYSCALL half done (it stays at CPL3 and faults on the kernel's entry page). Everything the kernel ")
                .Append("does by itself ran; to go further, apply MiniVmm's test-kernel patch ")
                .Append("images/kernel/patches/0001-x86-entry-finish-pvm-syscall.patch to your kernel (inert on hardware; the ")
                .Append("default small kernel carries it), or boot on a machine with hardware KVM (kvm_intel or kvm_amd).");
        }
        else if (reason.Contains("VFS: Unable to mount root", StringComparison.Ordinal))
        {
            text.Append("The kernel found no root file system: give an initramfs with --initrd (MiniVmm has no block device yet).");
        }
        else if (reason.Contains("No working init found", StringComparison.Ordinal) || reason.Contains("Requested init", StringComparison.Ordinal))
        {
            text.Append("The initramfs has no runnable /init (check it is executable and its interpreter or libraries are present).");
        }
        else
        {
            text.Append("The lines above are the kernel's own account; MiniVmm saw no host-side cause.");
        }
        return text.ToString();
    }
}
