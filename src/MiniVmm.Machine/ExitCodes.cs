namespace MiniVmm.Machine;

/// <summary>The VMM's process exit codes (also documented in the README).</summary>
public static class ExitCodes
{
    /// <summary>The guest powered off or reset, or the user quit with Ctrl-A x.</summary>
    public const int GuestPowerOff = 0;
    /// <summary>The guest stopped in a way MiniVmm diagnosed (panic, triple fault, unhandled exit).</summary>
    public const int GuestFailure = 1;
    /// <summary>Bad input: flags, files, sizes, a missing /dev/kvm.</summary>
    public const int BadInput = 2;
    /// <summary>A host-side failure that is not the user's input (a KVM ioctl failed mid-run).</summary>
    public const int HostFailure = 3;
}
