using System.Buffers;
using System.Text;
using Microsoft.Win32.SafeHandles;
using MiniVmm.Machine.Devices;
using MiniVmm.Sys;

namespace MiniVmm.Machine.Console;

/// <summary>
/// The host side of the guest's serial console. As the UART's <see cref="ISerialOutput"/> it copies
/// output to the terminal or a file (through a <see cref="ConsoleOutputWriter"/>) and to a
/// <see cref="ConsoleWatcher"/>. Once started it reads an input fd (stdin) on its own thread, handles the
/// Ctrl-A keys (<see cref="ConsoleEscapeParser"/>: quit, help, break, screenshot) and feeds the rest to
/// the UART. When the input is
/// a terminal it is switched to raw mode until Dispose; when it is not (a pipe, a file, /dev/null), the
/// terminal settings are left alone, and end of input only ends the input thread, never the machine.
/// <para>Build order: <c>var console = SerialConsole.OpenStdio(control, target); var uart = new
/// Serial16550(irq, console); console.Start(uart, screenshot);</c> and dispose the console after the vCPUs stop.</para>
/// </summary>
public sealed class SerialConsole : ISerialOutput, IDisposable
{
    public const string QuitDescription = "quit from the console (Ctrl-A x)";

    // Keystrokes wait here while the UART's FIFO is full (the guest is not reading); beyond this they are
    // dropped. The escape parser sees every byte, so Ctrl-A x works even then. A break waits in the same
    // queue as BreakMarker, so it reaches the guest between the keys typed before and after it.
    private const int PendingLimit = 4096;
    private const ushort BreakMarker = 0x100;
    private const int FifoRetryMs = 10;

    private readonly IMachineControl _control;
    private readonly ConsoleOutputWriter _writer;
    private readonly int _inputFd;
    private readonly EventFd _wake = new();
    private int _disposed; // 0 or 1, Interlocked

    // Set by Start before the input thread starts; afterwards the input thread alone uses them.
    private Serial16550? _uart;
    private Action? _screenshot;
    private Thread? _inputThread;
    private TerminalRawMode? _rawMode;
    private readonly ConsoleEscapeParser _parser = new();
    private readonly ArrayBufferWriter<byte> _translated = new();
    private readonly ushort[] _pending = new ushort[PendingLimit];
    private readonly byte[] _delivery = new byte[Serial16550.RxFifoSize];
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

    /// <summary>
    /// Starts feeding input to <paramref name="uart"/>; does nothing without an input fd. Ctrl-A s calls
    /// <paramref name="screenshot"/> on the input thread (without one the key does nothing).
    /// </summary>
    public void Start(Serial16550 uart, Action? screenshot = null)
    {
        ArgumentNullException.ThrowIfNull(uart);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_inputThread is not null)
            throw new InvalidOperationException("the console is already started");
        if (_inputFd < 0)
            return;
        _uart = uart;
        _screenshot = screenshot;
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
            var result = WaitForInput(endOfInput ? -1 : _inputFd, timeout);
            if (result == InputWait.Woken)
                return;
            if (result == InputWait.TimedOut)
                continue;
            if (!TryRead(buffer, out int count))
            {
                endOfInput = true; // deliver what is pending, then end the thread; the guest runs on
                continue;
            }
            if (HandleInput(buffer.AsSpan(0, count)))
                return;
        }
    }

    /// <summary>
    /// Waits for <paramref name="fd"/> (ignored when negative, as poll(2) ignores it) to become readable, for
    /// <see cref="_wake"/> to be signalled, or for <paramref name="timeoutMs"/> (-1: forever).
    /// </summary>
    private InputWait WaitForInput(int fd, int timeoutMs)
    {
        int ready = Poll.Wait(fd, Poll.In, _wake.Value, Poll.In, timeoutMs, out short input, out short woken);
        if (ready < 0)
            return Errno.Last == Errno.EINTR ? InputWait.TimedOut : InputWait.Readable; // a read reports the error
        if (woken != 0)
            return InputWait.Woken;
        return input != 0 ? InputWait.Readable : InputWait.TimedOut;
    }

    /// <summary>
    /// Reads what is available. Returns false at end of file or on an error; true with a count, which is
    /// 0 when a non-blocking fd had nothing after all.
    /// </summary>
    private bool TryRead(Span<byte> buffer, out int count)
    {
        using var input = new Fd(_inputFd, ownsHandle: false);
        int read = input.Read(buffer, out int errno);
        count = Math.Max(read, 0);
        return read > 0 || (read < 0 && errno == Errno.EAGAIN);
    }

    private enum InputWait
    {
        /// <summary>The input fd has data, end of file or an error: a read will say which.</summary>
        Readable,
        /// <summary>The wake fd was signalled: the owner is shutting down.</summary>
        Woken,
        TimedOut,
    }

    /// <summary>Queues the keys and runs the Ctrl-A commands in typing order; true after Ctrl-A x.</summary>
    private bool HandleInput(ReadOnlySpan<byte> input)
    {
        while (!input.IsEmpty)
        {
            _translated.ResetWrittenCount();
            var command = _parser.Process(input, _translated, out int consumed);
            input = input[consumed..];
            foreach (byte key in _translated.WrittenSpan)
                AppendPending(key);
            switch (command)
            {
                case ConsoleCommand.Quit:
                    DeliverPending();
                    _control.RequestStop(new StopReason(ExitCodes.GuestPowerOff, QuitDescription));
                    return true;
                case ConsoleCommand.Help:
                    _writer.Write(Encoding.ASCII.GetBytes(ConsoleEscapeParser.HelpText)); // not the watcher's: it is not guest output
                    break;
                case ConsoleCommand.Break:
                    AppendPending(BreakMarker);
                    break;
                case ConsoleCommand.Screenshot:
                    _screenshot?.Invoke();
                    break;
            }
        }
        return false;
    }

    private void AppendPending(ushort item)
    {
        if (_pendingCount < PendingLimit)
            _pending[_pendingCount++] = item;
    }

    // Offers only what fits, so the UART never overruns on our account. Only this thread adds to the
    // FIFO, so the space cannot shrink between InputSpace and the enqueues.
    private void DeliverPending()
    {
        int space = _uart!.InputSpace;
        int done = 0;
        while (done < _pendingCount && space > 0)
        {
            if (_pending[done] == BreakMarker)
            {
                _uart.EnqueueBreak();
                done++;
                space--;
                continue;
            }
            int run = 0;
            while (run < space && done + run < _pendingCount && _pending[done + run] != BreakMarker)
            {
                _delivery[run] = (byte)_pending[done + run];
                run++;
            }
            _uart.EnqueueInput(_delivery.AsSpan(0, run));
            done += run;
            space -= run;
        }
        _pending.AsSpan(done, _pendingCount - done).CopyTo(_pending);
        _pendingCount -= done;
    }
}
