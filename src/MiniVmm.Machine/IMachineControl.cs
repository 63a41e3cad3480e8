namespace MiniVmm.Machine;

/// <summary>Why the machine stopped, and the VMM's process exit code for it.</summary>
public sealed record StopReason(int ExitCode, string Description);

/// <summary>
/// What a device may ask of the machine. Devices never stop vCPU threads themselves: they ask, and the
/// machine's run loop stops every vCPU and returns the reason to the caller.
/// </summary>
public interface IMachineControl
{
    /// <summary>Stops the machine; the first request wins.</summary>
    void RequestStop(StopReason reason);
}
