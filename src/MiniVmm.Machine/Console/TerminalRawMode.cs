using System.Runtime.InteropServices;
using MiniVmm.Sys;

namespace MiniVmm.Machine.Console;

/// <summary>
/// Puts the terminal on an fd into raw mode and guarantees to put it back: on Dispose, on SIGINT,
/// SIGTERM, SIGQUIT and SIGHUP (the handler restores the terminal and lets the signal's default action
/// go on), at process exit and on an unhandled exception. Whichever comes first restores; the rest do
/// nothing.
/// </summary>
internal sealed class TerminalRawMode : IDisposable
{
    private static readonly PosixSignal[] RestoreSignals =
        [PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGQUIT, PosixSignal.SIGHUP];

    private readonly int _fd;
    private readonly TerminalMode _saved;
    private readonly PosixSignalRegistration[] _signals;
    private int _restored; // 0 or 1, set with Interlocked: restoring can race between threads

    private TerminalRawMode(int fd, TerminalMode saved)
    {
        _fd = fd;
        _saved = saved;
        _signals = [.. RestoreSignals.Select(s => PosixSignalRegistration.Create(s, _ => Restore()))];
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        AppDomain.CurrentDomain.UnhandledException += OnUnhandledException;
    }

    /// <summary>Returns null, touching nothing, when <paramref name="fd"/> is not a terminal.</summary>
    public static TerminalRawMode? TryEnter(int fd)
    {
        if (!Terminal.IsTerminal(fd))
            return null;
        // .NET's native console layer (System.Native pal_console.c) records the terminal's settings the
        // first time System.Console is used and may re-apply them later (on SIGCONT, at exit). Make it
        // record them now, while the terminal is still cooked, so that what it re-applies is never raw.
        _ = System.Console.Out;
        if (!Terminal.TryGetMode(fd, out var saved))
            return null;
        var mode = new TerminalRawMode(fd, saved);
        if (!Terminal.TrySetMode(fd, Terminal.MakeRaw(saved)))
        {
            mode.Dispose();
            return null;
        }
        return mode;
    }

    public void Dispose()
    {
        Restore();
        foreach (var registration in _signals)
            registration.Dispose();
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        AppDomain.CurrentDomain.UnhandledException -= OnUnhandledException;
    }

    private void Restore()
    {
        if (Interlocked.Exchange(ref _restored, 1) == 0)
            _ = Terminal.TrySetMode(_fd, _saved);
    }

    private void OnProcessExit(object? sender, EventArgs e) => Restore();

    private void OnUnhandledException(object sender, UnhandledExceptionEventArgs e) => Restore();
}
