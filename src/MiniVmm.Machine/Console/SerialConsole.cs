using System.Buffers;
using Microsoft.Win32.SafeHandles;
using MiniVmm.Kvm;
using MiniVmm.Machine.Devices;

namespace MiniVmm.Machine.Console;

/// <summary>
/// The host side of the guest's serial console. As the UART's <see cref="ISerialOutput"/> it copies
/// output to the terminal or a file (through a <see cref="ConsoleOutputWriter"/>) and to a
/// <see cref="ConsoleWatcher"/>. Once started it reads an input fd (stdin) on its own thread, handles the
/// Ctrl-A escapes (<see cref="ConsoleEscapeParser"/>) and feeds the rest to the UART. When the input is
/// a terminal it is switched to raw mode until Dispose; when it is not (a pipe, a file, /dev/null), the
/// terminal settings are left alone, and end of input only ends the input thread, never the machine.
/// <para>Build order: <c>var console = SerialConsole.OpenStdio(control, target); var uart = new
/// Serial16550(irq, console); console.Start(uart);</c> and dispose the console after the vCPUs stop.</para>
/// </summary>
public sealed class SerialConsole : ISerialOutput, IDisposable
{
    public const string QuitDescription = "quit from the console (Ctrl-A x)";

    // Keystrokes wait here while the UART's FIFO is full (the guest is not reading); beyond this they are
    // dropped. The escape parser sees every byte, so Ctrl-A x works even then.
    private const int PendingLimit = 4096;
    private const int FifoRetryMs = 10;

    private readonly IMachineControl _control;
    private readonly ConsoleOutputWriter _writer;
    private readonly int _inputFd;
    private readonly EventFd _wake = new();
    private int _disposed; // 0 or 1, Interlocked

    // Set by Start before the input thread starts; afterwards the input thread alone uses them.
    private Serial16550? _uart;
    private Thread? _inputThread;
    private TerminalRawMode? _rawMode;
    private readonly ConsoleEscapeParser _parser = new();
    private readonly ArrayBufferWriter<byte> _translated = new();
    private readonly byte[] _pending = new byte[PendingLimit];
    private int _pendingCount;

    /// <param name="output">Where the guest's output goes.</param>
    /// <param name="ownsOutput">Dispose <paramref name="output"/> with the console.</param>
    /// <param name="inputFd">The fd to read keystrokes from (0 for stdin), or -1 for no input.</param>
    public SerialConsole(IMachineControl control, Stream output, bool ownsOutput, int inputFd, ConsoleWatcher? watcher = null)
    {
        ArgumentNullException.ThrowIfNull(control);
        _control = control;
        _writer = new ConsoleOutputWriter(output, ownsOutput);
        _inputFd = inputFd;
        Watcher = watcher ?? new ConsoleWatcher();
    }

    /// <summary>A console on stdin and <paramref name="outputTarget"/> (see <see cref="OpenOutput"/>).</summary>
    public static SerialConsole OpenStdio(IMachineControl control, string? outputTarget = null, bool readStdin = true) =>
        new(control, OpenOutput(outputTarget), ownsOutput: true, readStdin ? 0 : -1);

    /// <summary>
    /// Opens a console output target: null, "stdio" or "-" is stdout (fd 1 through Console.OpenStandardOutput: raw bytes, no encoding, no buffering); "file:PATH" creates or truncates
    /// PATH. Throws ArgumentException for anything else, IOException if the file cannot be created.
    /// </summary>
    public static Stream OpenOutput(string? target)
    {
        if (target is null or "stdio" or "-")
            return System.Console.OpenStandardOutput(); // plain write(2): a FileStream on fd 1 would pwrite at its own offset and clobber stderr's lines in a shared file
        if (target.StartsWith("file:", StringComparison.Ordinal) && target.Length > "file:".Length)
            return new FileStream(target["file:".Length..], FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0);
        throw new ArgumentException($"console output '{target}' must be 'stdio' or 'file:PATH'", nameof(target));
    }

    public ConsoleWatcher Watcher { get; }

    /// <summary>Whether the input terminal was switched to raw mode.</summary>
    public bool IsRaw => _rawMode is not null;

    /// <summary>Output goes to the writer first, so a watcher callback that stops the machine loses nothing.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        _writer.Write(data);
        Watcher.Write(data);
    }

    /// <summary>Waits until the guest's output so far has reached the terminal or file.</summary>
    public void Flush() => _writer.Flush();

    /// <summary>Starts feeding input to <paramref name="uart"/>; does nothing without an input fd.</summary>
    public void Start(Serial16550 uart)
    {
        ArgumentNullException.ThrowIfNull(uart);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_inputThread is not null)
            throw new InvalidOperationException("the console is already started");
        if (_inputFd < 0)
            return;
        _uart = uart;
        _rawMode = TerminalRawMode.TryEnter(_inputFd);
        _inputThread = new Thread(InputLoop) { IsBackground = true, Name = "console input" };
        _inputThread.Start();
    }

    /// <summary>Stops the input thread, restores the terminal and writes out pending output.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _wake.Signal();
        // The input thread itself may get here (RequestStop after Ctrl-A x tearing the machine down).
        if (_inputThread is not null && _inputThread != Thread.CurrentThread)
            _inputThread.Join();
        _rawMode?.Dispose();
        _writer.Dispose();
        _wake.Dispose();
    }

    private void InputLoop()
    {
        var buffer = new byte[512];
        bool endOfInput = false;
        while (Volatile.Read(ref _disposed) == 0)
        {
            DeliverPending();
            if (endOfInput && _pendingCount == 0)
                return;
            // With keystrokes waiting for FIFO room look again soon; otherwise sleep until input or Dispose.
            int timeout = _pendingCount > 0 ? FifoRetryMs : -1;
            var result = HostFd.WaitReadable(endOfInput ? -1 : _inputFd, _wake.Fd, timeout);
            if (result == HostFd.WaitResult.Woken)
                return;
            if (result == HostFd.WaitResult.TimedOut)
                continue;
            if (!HostFd.TryRead(_inputFd, buffer, out int count))
            {
                endOfInput = true; // deliver what is pending, then end the thread; the guest runs on
                continue;
            }
            _translated.ResetWrittenCount();
            bool quit = _parser.Process(buffer.AsSpan(0, count), _translated);
            AppendPending(_translated.WrittenSpan);
            if (quit)
            {
                DeliverPending();
                _control.RequestStop(new StopReason(ExitCodes.GuestPowerOff, QuitDescription));
                return;
            }
        }
    }

    private void AppendPending(ReadOnlySpan<byte> bytes)
    {
        int count = Math.Min(bytes.Length, PendingLimit - _pendingCount);
        bytes[..count].CopyTo(_pending.AsSpan(_pendingCount));
        _pendingCount += count;
    }

    // Offers only what fits, so the UART never overruns on our account. Only this thread adds to the
    // FIFO, so the space cannot shrink between the two calls.
    private void DeliverPending()
    {
        if (_pendingCount == 0)
            return;
        int count = Math.Min(_pendingCount, _uart!.InputSpace);
        if (count == 0)
            return;
        int accepted = _uart.EnqueueInput(_pending.AsSpan(0, count));
        _pending.AsSpan(accepted, _pendingCount - accepted).CopyTo(_pending);
        _pendingCount -= accepted;
    }
}
