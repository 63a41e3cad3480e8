namespace MiniVmm.Machine;

/// <summary>Builds the guest's kernel command line from MiniVmm's defaults, host workarounds and the user's arguments.</summary>
public static class KernelCommandLine
{
    /// <summary>Console on COM1; reboot via the keyboard controller, which MiniVmm treats as "the guest is done".</summary>
    public const string Defaults = "console=ttyS0 reboot=k";

    /// <summary>
    /// On a software (kvm_pvm) KVM, instructions it cannot emulate must never run in the guest kernel:
    /// XSAVE (noxsave), SSE4/AES/SHA paths and friends (clearcpuid; 6.1 reads only its first 128
    /// characters), and two boot-time tracing initcalls that take minutes when interpreted.
    /// MiniVmm also completes int3, fwait, popcnt, clac/stac and cmpxchg16b itself; hiding them here
    /// just saves the exits. Measured on these hosts (host-kvm.md).
    /// </summary>
    public const string HostCompatibility =
        "noxsave clearcpuid=rdrand,rdseed,rdpid,rdtscp,ssse3,sse4_1,sse4_2,pclmulqdq,aes,sha_ni,pcid,invpcid,smep,smap,fsgsbase,popcnt,cx16 " +
        "nowatchdog mitigations=off cryptomgr.notests initcall_blacklist=ftrace_check_for_weak_functions,tracer_init_tracefs";

    /// <summary>
    /// <paramref name="deviceArguments"/> tell guest software about the devices (minivmm.wayland_channels=...); they go
    /// before the user's arguments so that --append can override them.
    /// </summary>
    public static string Build(string userArguments, bool hostCompatibility, string? deviceArguments = null) =>
        string.Join(' ', new[] { Defaults, hostCompatibility ? HostCompatibility : "", deviceArguments ?? "", userArguments.Trim() }
            .Where(part => part.Length > 0));
}
