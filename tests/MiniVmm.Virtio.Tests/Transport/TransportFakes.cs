using MiniVmm.Pci;
using MiniVmm.Virtio.Queue;

namespace MiniVmm.Virtio.Tests.Transport;

/// <summary>A memory space that dispatches guest accesses to mapped BARs and records ioeventfd registrations.</summary>
internal sealed class FakeMemorySpace(bool ioEvents) : IPciAddressSpace
{
    private readonly Lock _lock = new();
    private readonly Dictionary<IPciRegion, (ulong Address, ulong Length)> _mapped = [];
    private readonly List<(int Fd, ulong Address, uint Length)> _ioEvents = [];

    public List<(int Fd, ulong Address, uint Length)> IoEvents
    {
        get
        {
            lock (_lock)
                return [.. _ioEvents];
        }
    }

    public bool TryMap(ulong address, ulong length, IPciRegion region)
    {
        lock (_lock)
        {
            if (_mapped.Values.Any(r => address < r.Address + r.Length && r.Address < address + length))
                return false;
            _mapped.Add(region, (address, length));
            return true;
        }
    }

    public void Unmap(IPciRegion region)
    {
        lock (_lock)
            _mapped.Remove(region);
    }

    public bool TryAddIoEvent(int eventFd, ulong address, uint length)
    {
        lock (_lock)
        {
            if (!ioEvents)
                return false;
            _ioEvents.Add((eventFd, address, length));
            return true;
        }
    }

    public void RemoveIoEvent(int eventFd, ulong address, uint length)
    {
        lock (_lock)
            _ioEvents.Remove((eventFd, address, length));
    }

    public void Read(ulong address, Span<byte> data)
    {
        var (region, offset) = Find(address, data.Length);
        region.Read(offset, data);
    }

    public void Write(ulong address, ReadOnlySpan<byte> data)
    {
        var (region, offset) = Find(address, data.Length);
        region.Write(offset, data);
    }

    private (IPciRegion Region, ulong Offset) Find(ulong address, int length)
    {
        lock (_lock)
        {
            foreach (var (region, range) in _mapped)
            {
                if (address >= range.Address && address + (ulong)length <= range.Address + range.Length)
                    return (region, address - range.Address);
            }
        }
        throw new InvalidOperationException($"guest access at 0x{address:x} hits no mapped BAR");
    }
}

internal sealed class NoIoSpace : IPciAddressSpace
{
    public bool TryMap(ulong address, ulong length, IPciRegion region) => true;
    public void Unmap(IPciRegion region) { }
    public bool TryAddIoEvent(int eventFd, ulong address, uint length) => false;
    public void RemoveIoEvent(int eventFd, ulong address, uint length) { }
}

internal sealed class RecordingMsi : IMsiController
{
    public List<RecordingVector> Vectors { get; } = [];

    public IMsiVector CreateVector()
    {
        var vector = new RecordingVector();
        Vectors.Add(vector);
        return vector;
    }
}

internal sealed class RecordingVector : IMsiVector
{
    private readonly Lock _lock = new();
    private readonly List<MsiMessage> _fired = [];

    public List<MsiMessage> Fired
    {
        get
        {
            lock (_lock)
                return [.. _fired];
        }
    }

    public void Configure(MsiMessage message, bool deliverable)
    {
    }

    public void Fire(MsiMessage message)
    {
        lock (_lock)
            _fired.Add(message);
    }
}

internal sealed class RecordingIntx : IPciInterruptLine
{
    public bool Level { get; private set; }
    public int Changes { get; private set; }

    public void SetLevel(bool asserted)
    {
        Level = asserted;
        Changes++;
    }
}

/// <summary>A virtio device that records what the transport asks of it.</summary>
internal sealed class FakeVirtioDevice(uint deviceType = 16, ulong features = 0b1001, params ushort[] queueSizes) : IVirtioDevice
{
    private readonly Lock _lock = new();
    private readonly List<(int Queue, int ThreadId)> _notifies = [];
    private readonly byte[] _config = [.. Enumerable.Range(0x10, 16).Select(i => (byte)i)];

    public uint DeviceType => deviceType;
    public ulong DeviceFeatures => features;
    public IReadOnlyList<ushort> QueueMaxSizes { get; } = queueSizes.Length == 0 ? [16, 8] : queueSizes;
    public VirtioActivation? Activation { get; private set; }
    public int Resets { get; private set; }
    public List<(uint Offset, byte[] Data)> ConfigWrites { get; } = [];
    public SemaphoreSlim Notified { get; } = new(0);

    public List<(int Queue, int ThreadId)> Notifies
    {
        get
        {
            lock (_lock)
                return [.. _notifies];
        }
    }

    public void ReadConfig(uint offset, Span<byte> data)
    {
        for (int i = 0; i < data.Length; i++)
            data[i] = offset + i < _config.Length ? _config[offset + i] : (byte)0;
    }

    public void WriteConfig(uint offset, ReadOnlySpan<byte> data) => ConfigWrites.Add((offset, data.ToArray()));

    public void Activate(VirtioActivation activation) => Activation = activation;

    public void Reset()
    {
        Resets++;
        Activation = null;
    }

    public void QueueNotify(int queueIndex)
    {
        lock (_lock)
            _notifies.Add((queueIndex, Environment.CurrentManagedThreadId));
        Notified.Release();
    }

    public IReadOnlyList<Virtqueue?> Queues => Activation?.Queues ?? [];
}
