using System.Runtime.InteropServices;

namespace MiniVmm.Machine;

/// <summary>
/// SIGUSR1 → "take a screenshot". The handler is installed once for the life of the process and
/// never removed: a SIGUSR1 that arrives while a machine is shutting down (its handler already gone)
/// would otherwise get the default action and kill the VMM with status 138.
/// </summary>
internal static class ScreenshotSignal
{
    private const int SigUsr1 = 10;
    private static readonly Lock TargetLock = new();
    private static PosixSignalRegistration? _registration;
    // Guarded by TargetLock: what SIGUSR1 does now (null: nothing to capture, the signal is ignored).
    private static Action? _target;

    /// <summary>Sends SIGUSR1 to <paramref name="target"/> until the returned handle is disposed.</summary>
    public static IDisposable Route(Action target)
    {
        lock (TargetLock)
        {
            _registration ??= PosixSignalRegistration.Create((PosixSignal)SigUsr1, OnSignal);
            _target = target;
        }
        return new Unroute(target);
    }

    private static void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        Action? target;
        lock (TargetLock)
            target = _target;
        target?.Invoke();
    }

    private sealed class Unroute(Action target) : IDisposable
    {
        public void Dispose()
        {
            lock (TargetLock)
            {
                if (ReferenceEquals(_target, target))
                    _target = null;
            }
        }
    }
}
