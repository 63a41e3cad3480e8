using System.Runtime.InteropServices;

namespace MiniVmm.Machine.Vcpu;

/// <summary>
/// Interrupts a vCPU thread blocked in KVM_RUN (for example halted in the in-kernel LAPIC) by sending
/// it SIGUSR2. The runtime's handler for the registered signal does nothing; the point is that KVM_RUN
/// returns EINTR, and the vCPU's immediate_exit flag covers the race where it was not yet inside.
/// </summary>
internal static partial class VcpuKicker
{
    private const int SigUsr2 = 12;
    private static readonly Lock RegistrationLock = new();
    private static PosixSignalRegistration? _registration;

    public static nuint CurrentThread()
    {
        EnsureHandler();
        return PthreadSelf();
    }

    public static void Kick(nuint thread) => _ = PthreadKill(thread, SigUsr2);

    private static void EnsureHandler()
    {
        lock (RegistrationLock)
            _registration ??= PosixSignalRegistration.Create((PosixSignal)SigUsr2, context => context.Cancel = true);
    }

    [LibraryImport("libc", EntryPoint = "pthread_self")]
    private static partial nuint PthreadSelf();

    [LibraryImport("libc", EntryPoint = "pthread_kill")]
    private static partial int PthreadKill(nuint thread, int signal);
}
