namespace MiniVmm.Machine.Bus;

/// <summary>
/// Maps address ranges to devices for one address space (port I/O or MMIO). Ranges never overlap and
/// never wrap: both are rejected at registration. Unclaimed reads return all ones, as on real hardware
/// with nothing decoding the address, and unclaimed writes are dropped.
/// </summary>
public sealed class IoBus(string name)
{
    private readonly record struct Range(ulong Base, ulong Length, IBusDevice Device)
    {
        public ulong End => Base + Length;
    }

    // Sorted by Base. Registration happens while the machine is built; lookups after that are lock-free.
    private Range[] _ranges = [];
    private readonly Lock _registerLock = new();

    public string Name { get; } = name;

    public void Register(ulong baseAddress, ulong length, IBusDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (length == 0 || baseAddress + length < baseAddress)
            throw new ArgumentException($"{Name}: range 0x{baseAddress:x}+0x{length:x} is empty or wraps");
        lock (_registerLock)
        {
            foreach (var range in _ranges)
            {
                if (baseAddress < range.End && range.Base < baseAddress + length)
                    throw new ArgumentException(
                        $"{Name}: range 0x{baseAddress:x}+0x{length:x} overlaps {range.Device.GetType().Name} at 0x{range.Base:x}+0x{range.Length:x}");
            }
            var ranges = new List<Range>(_ranges) { new(baseAddress, length, device) };
            ranges.Sort((a, b) => a.Base.CompareTo(b.Base));
            Volatile.Write(ref _ranges, [.. ranges]);
        }
    }

    public void Unregister(IBusDevice device)
    {
        lock (_registerLock)
            Volatile.Write(ref _ranges, [.. _ranges.Where(r => !ReferenceEquals(r.Device, device))]);
    }

    /// <summary>Returns false when no device claims the address (the read is then filled with 0xFF).</summary>
    public bool Read(ulong address, Span<byte> data)
    {
        if (TryFind(address, (ulong)data.Length, out var range))
        {
            range.Device.Read(address - range.Base, data);
            return true;
        }
        data.Fill(0xFF);
        return false;
    }

    /// <summary>Returns false when no device claims the address (the write is dropped).</summary>
    public bool Write(ulong address, ReadOnlySpan<byte> data)
    {
        if (!TryFind(address, (ulong)data.Length, out var range))
            return false;
        range.Device.Write(address - range.Base, data);
        return true;
    }

    private bool TryFind(ulong address, ulong length, out Range found)
    {
        var ranges = Volatile.Read(ref _ranges);
        int lo = 0, hi = ranges.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            var range = ranges[mid];
            if (address < range.Base)
                hi = mid - 1;
            else if (address >= range.End)
                lo = mid + 1;
            else
            {
                // The whole access must fit: a 4-byte read straddling the end is not this device's.
                found = range;
                return length <= range.End - address;
            }
        }
        found = default;
        return false;
    }
}
