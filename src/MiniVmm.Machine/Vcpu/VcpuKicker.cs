using System.Runtime.InteropServices;
using MiniVmm.Sys;

namespace MiniVmm.Machine.Vcpu;

/// <summary>
/// Interrupts a vCPU thread blocked in KVM_RUN (for example halted in the in-kernel LAPIC) by sending
/// it SIGUSR2. The runtime's handler for the registered signal does nothing; the point is that KVM_RUN
/// returns EINTR, and the vCPU's immediate_exit flag covers the race where it was not yet inside.
/// </summary>
internal static class VcpuKicker
{
    private static readonly Lock RegistrationLock = new();
    private static PosixSignalRegistration? _registration;

    public static nuint CurrentThread()
    {
        EnsureHandler();
        return ThreadSignal.CurrentThread();
    }

    public static void Kick(nuint thread) => _ = ThreadSignal.Send(thread, ThreadSignal.SigUsr2);

    private static void EnsureHandler()
    {
        lock (RegistrationLock)
            _registration ??= PosixSignalRegistration.Create((PosixSignal)ThreadSignal.SigUsr2, context => context.Cancel = true);
    }
}
