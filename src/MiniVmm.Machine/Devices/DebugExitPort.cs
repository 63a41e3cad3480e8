using System.Buffers.Binary;
using MiniVmm.Machine.Bus;

namespace MiniVmm.Machine.Devices;

/// <summary>
/// MiniVmm's test-exit port: a guest write of value v stops the machine with exit code v &amp; 0xFF. It is
/// like QEMU's isa-debug-exit device, except that the value written IS the exit code (QEMU exits with
/// (v &lt;&lt; 1) | 1, so a guest cannot report success as 0 there). A test writes its status with
/// <c>outb</c>, <c>outw</c> or <c>outl</c> to <see cref="DefaultPort"/>; the machine registers
/// <see cref="Length"/> ports so that 2- and 4-byte writes at the base are claimed too. Only writes at
/// the base count; reads return 0.
/// </summary>
public sealed class DebugExitPort(IMachineControl control) : IBusDevice
{
    public const ushort DefaultPort = 0x501;
    public const int Length = 4;

    public void Read(ulong offset, Span<byte> data) => data.Clear();

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        if (offset != 0 || data.IsEmpty)
            return;
        Span<byte> wide = stackalloc byte[8];
        data[..Math.Min(data.Length, 8)].CopyTo(wide);
        ulong value = BinaryPrimitives.ReadUInt64LittleEndian(wide);
        control.RequestStop(new StopReason((int)(value & 0xFF), $"guest wrote {value} to the debug-exit port"));
    }
}
