using System.Buffers;

namespace MiniVmm.Machine.Console;

/// <summary>
/// Turns keystrokes from the host terminal into bytes for the guest, watching for the console's escape
/// key Ctrl-A (as in QEMU and screen): Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A, and Ctrl-A
/// followed by anything else sends both bytes. A Ctrl-A at the end of one read waits for the next read.
/// Pure, so every case is unit-tested; one instance per input stream, used by one thread.
/// </summary>
public sealed class ConsoleEscapeParser
{
    public const byte EscapeKey = 0x01; // Ctrl-A
    public const byte QuitKey = (byte)'x';

    private bool _afterEscape; // the previous byte was an escape that is not yet resolved

    /// <summary>
    /// Appends the guest's bytes for <paramref name="input"/> to <paramref name="toGuest"/>. Returns true
    /// when the quit sequence was typed; the bytes after it are not processed.
    /// </summary>
    public bool Process(ReadOnlySpan<byte> input, IBufferWriter<byte> toGuest)
    {
        ArgumentNullException.ThrowIfNull(toGuest);
        foreach (byte key in input)
        {
            if (_afterEscape)
            {
                _afterEscape = false;
                if (key == QuitKey)
                    return true;
                if (key == EscapeKey)
                    Emit(toGuest, EscapeKey);
                else
                    Emit(toGuest, EscapeKey, key);
            }
            else if (key == EscapeKey)
            {
                _afterEscape = true;
            }
            else
            {
                Emit(toGuest, key);
            }
        }
        return false;
    }

    private static void Emit(IBufferWriter<byte> toGuest, byte value)
    {
        toGuest.GetSpan(1)[0] = value;
        toGuest.Advance(1);
    }

    private static void Emit(IBufferWriter<byte> toGuest, byte first, byte second)
    {
        var span = toGuest.GetSpan(2);
        span[0] = first;
        span[1] = second;
        toGuest.Advance(2);
    }
}
