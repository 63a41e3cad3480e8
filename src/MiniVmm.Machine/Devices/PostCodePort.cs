using MiniVmm.Machine.Bus;

namespace MiniVmm.Machine.Devices;

/// <summary>
/// Port 0x80, the POST-code port. Linux writes to it as an I/O delay (<c>outb %al, $0x80</c>) thousands
/// of times during boot; claiming it keeps those writes off the unclaimed-port path (and its tracing)
/// and costs a counter. Reads return all ones, as from a port nothing decodes.
/// </summary>
public sealed class PostCodePort : IBusDevice
{
    public const ushort DefaultPort = 0x80;

    // Lock-free: several vCPUs may write at once; both fields are only ever replaced whole.
    private long _writeCount;
    private int _lastCode = -1;

    /// <summary>How many writes the guest made.</summary>
    public long WriteCount => Interlocked.Read(ref _writeCount);

    /// <summary>The last byte written, or -1 before the first write.</summary>
    public int LastCode => Volatile.Read(ref _lastCode);

    public void Read(ulong offset, Span<byte> data) => data.Fill(0xFF);

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        Interlocked.Increment(ref _writeCount);
        if (!data.IsEmpty)
            Volatile.Write(ref _lastCode, data[0]);
    }
}
