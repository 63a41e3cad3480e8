using System.Runtime.InteropServices;

namespace MiniVmm.Sys;

/// <summary>
/// A signal aimed at one thread (pthread_kill), to interrupt a system call it is blocked in (KVM_RUN returns
/// EINTR). Register a handler (PosixSignalRegistration) first: the default action of most signals ends the process.
/// </summary>
public static partial class ThreadSignal
{
    public const int SigUsr2 = 12;

    /// <summary>pthread_self(3): the calling thread, as <see cref="Send"/> names it.</summary>
    public static nuint CurrentThread() => PthreadSelf();

    /// <summary>pthread_kill(3): 0, or the error number (ESRCH: the thread has ended).</summary>
    public static int Send(nuint thread, int signal) => PthreadKill(thread, signal);

    [LibraryImport("libc", EntryPoint = "pthread_self")]
    private static partial nuint PthreadSelf();

    [LibraryImport("libc", EntryPoint = "pthread_kill")]
    private static partial int PthreadKill(nuint thread, int signal);
}
