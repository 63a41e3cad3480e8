using MiniVmm.Machine.Bus;
using MiniVmm.Machine.Devices;

namespace MiniVmm.Machine.Tests.Devices;

/// <summary>Records every level change a device makes.</summary>
internal sealed class FakeInterruptLine : IInterruptLine
{
    private readonly Lock _lock = new();
    private readonly List<bool> _levels = [];

    public List<bool> Levels
    {
        get
        {
            lock (_lock)
                return [.. _levels];
        }
    }

    public bool Asserted
    {
        get
        {
            lock (_lock)
                return _levels.Count > 0 && _levels[^1];
        }
    }

    public void SetLevel(bool asserted)
    {
        lock (_lock)
            _levels.Add(asserted);
    }
}

internal sealed class FakeMachineControl : IMachineControl
{
    private readonly Lock _lock = new();
    private readonly List<StopReason> _requests = [];

    public List<StopReason> Requests
    {
        get
        {
            lock (_lock)
                return [.. _requests];
        }
    }

    public void RequestStop(StopReason reason)
    {
        lock (_lock)
            _requests.Add(reason);
    }
}

internal sealed class RecordingOutput : ISerialOutput
{
    private readonly Lock _lock = new();
    private readonly List<byte> _bytes = [];

    public byte[] Bytes
    {
        get
        {
            lock (_lock)
                return [.. _bytes];
        }
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        lock (_lock)
            _bytes.AddRange(data);
    }
}

internal static class BusDeviceExtensions
{
    public static byte ReadByte(this IBusDevice device, ulong offset)
    {
        Span<byte> data = stackalloc byte[1];
        device.Read(offset, data);
        return data[0];
    }

    public static void WriteByte(this IBusDevice device, ulong offset, byte value) =>
        device.Write(offset, [value]);
}
