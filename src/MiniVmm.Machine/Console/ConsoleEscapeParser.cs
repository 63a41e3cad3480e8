using System.Buffers;

namespace MiniVmm.Machine.Console;

/// <summary>What a Ctrl-A sequence asks the console to do.</summary>
public enum ConsoleCommand
{
    None,
    /// <summary>Ctrl-A x: stop the machine.</summary>
    Quit,
    /// <summary>Ctrl-A h (or ?): list the keys.</summary>
    Help,
    /// <summary>Ctrl-A b: a break on the serial line (the guest's magic SysRq on its serial console).</summary>
    Break,
    /// <summary>Ctrl-A s: write a screenshot of the scanouts.</summary>
    Screenshot,
}

/// <summary>
/// Turns keystrokes from the host terminal into bytes for the guest, watching for the console's escape
/// key Ctrl-A (as in QEMU and screen): Ctrl-A followed by one of <see cref="HelpText"/>'s keys is a
/// <see cref="ConsoleCommand"/>, Ctrl-A Ctrl-A sends one Ctrl-A, and Ctrl-A followed by anything else
/// sends both bytes (QEMU drops them; passing them on keeps an unknown key visible to the guest). A Ctrl-A
/// at the end of one read waits for the next read.
/// Pure, so every case is unit-tested; one instance per input stream, used by one thread.
/// </summary>
public sealed class ConsoleEscapeParser
{
    public const byte EscapeKey = 0x01; // Ctrl-A

    /// <summary>What Ctrl-A h prints (the README lists the same keys beside QEMU's).</summary>
    public const string HelpText =
        "MiniVmm console keys:\n" +
        "  Ctrl-A h       list these keys\n" +
        "  Ctrl-A b       send a break (Linux on ttyS0: the next key within 5 s is a magic SysRq key, h lists them)\n" +
        "  Ctrl-A s       write a screenshot of the scanouts (as kill -USR1 does)\n" +
        "  Ctrl-A x       quit (exit code 0)\n" +
        "  Ctrl-A Ctrl-A  send Ctrl-A to the guest\n";

    private bool _afterEscape; // the previous byte was an escape that is not yet resolved

    /// <summary>
    /// Appends the guest's bytes for <paramref name="input"/> to <paramref name="toGuest"/> up to the end
    /// of the input or the first command, whichever comes first, and returns that command (None at the
    /// end). <paramref name="consumed"/> says how far it got, so the caller acts on the command in order
    /// with the bytes around it and then passes the rest of the input again.
    /// </summary>
    public ConsoleCommand Process(ReadOnlySpan<byte> input, IBufferWriter<byte> toGuest, out int consumed)
    {
        ArgumentNullException.ThrowIfNull(toGuest);
        for (consumed = 0; consumed < input.Length;)
        {
            byte key = input[consumed++];
            if (!_afterEscape)
            {
                if (key == EscapeKey)
                    _afterEscape = true;
                else
                    Emit(toGuest, key);
                continue;
            }
            _afterEscape = false;
            var command = CommandFor(key);
            if (command != ConsoleCommand.None)
                return command;
            if (key == EscapeKey)
                Emit(toGuest, EscapeKey);
            else
            {
                Emit(toGuest, EscapeKey);
                Emit(toGuest, key);
            }
        }
        return ConsoleCommand.None;
    }

    private static ConsoleCommand CommandFor(byte key) => key switch
    {
        (byte)'x' => ConsoleCommand.Quit,
        (byte)'h' or (byte)'?' => ConsoleCommand.Help,
        (byte)'b' => ConsoleCommand.Break,
        (byte)'s' => ConsoleCommand.Screenshot,
        _ => ConsoleCommand.None,
    };

    private static void Emit(IBufferWriter<byte> toGuest, byte value)
    {
        toGuest.GetSpan(1)[0] = value;
        toGuest.Advance(1);
    }
}
