using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MiniVmm.Sys;

namespace MiniVmm.Memory;

/// <summary>
/// The only door to guest memory. Regions are sorted and non-overlapping by construction; every
/// access is bounds-checked with overflow-safe arithmetic and fails with a <see cref="GuestMemoryError"/>
/// value instead of an exception, so a hostile guest address becomes a device error, never a crash.
/// </summary>
public sealed unsafe class GuestMemory : IDisposable
{
    // Copy-on-write: readers take the array reference once; writers replace it under _writeLock.
    private MemoryRegion[] _regions;
    private readonly Lock _writeLock = new();
    private bool _disposed;

    private GuestMemory(MemoryRegion[] regions) => _regions = regions;

    public IReadOnlyList<MemoryRegion> Regions => Volatile.Read(ref _regions);

    /// <summary>Total bytes of RAM across all regions.</summary>
    public ulong TotalSize => Regions.Aggregate(0UL, (sum, r) => sum + r.Size);

    /// <summary>Creates memfd-backed RAM at the given (start, size) ranges. Sizes must be page multiples.</summary>
    public static GuestMemory Create(IEnumerable<(GuestAddress Start, ulong Size)> layout)
    {
        var sorted = layout.OrderBy(r => r.Start.Value).ToArray();
        ulong previousEnd = 0;
        foreach (var (start, size) in sorted)
        {
            if (size == 0 || size % PageSize != 0 || !start.IsAligned(PageSize))
                throw new ArgumentException($"region {start} size 0x{size:x} must be non-empty and page aligned");
            if (!start.TryAdd(size, out _))
                throw new ArgumentException($"region {start} size 0x{size:x} overflows the address space");
            if (start.Value < previousEnd)
                throw new ArgumentException($"region {start} overlaps the previous region");
            previousEnd = start.Value + size;
        }

        var regions = new List<MemoryRegion>(sorted.Length);
        try
        {
            foreach (var (start, size) in sorted)
                regions.Add(MapMemfd(start, size));
        }
        catch
        {
            foreach (var region in regions)
                Unmap(region);
            throw;
        }
        return new GuestMemory([.. regions]);
    }

    /// <summary>Convenience for a single RAM range at guest address 0.</summary>
    public static GuestMemory CreateFlat(ulong size) => Create([(new GuestAddress(0), size)]);

    public const ulong PageSize = 4096;

    private static MemoryRegion MapMemfd(GuestAddress start, ulong size)
    {
        var fd = Memfd.TryCreate("minivmm-ram", size, out string? error)
            ?? throw new IOException($"guest RAM of {size} bytes: {error}");
        nint host = Memfd.TryMapShared(fd, size, allowReadOnly: false, out error);
        if (host == 0)
        {
            fd.Dispose();
            throw new IOException($"guest RAM of {size} bytes: {error}");
        }
        return new MemoryRegion(start, size, host, fd);
    }

    private static void Unmap(MemoryRegion region)
    {
        Memfd.Unmap(region.HostAddress, region.Size);
        region.Handle.Dispose();
    }

    /// <summary>Finds the region holding [address, address+length) or says why none does.</summary>
    public GuestMemoryError Locate(GuestAddress address, ulong length, out MemoryRegion? region, out ulong offset)
    {
        region = null;
        offset = 0;
        if (!address.TryAdd(length, out _))
            return GuestMemoryError.Overflow;
        if (FindRegion(address) is not { } candidate)
            return GuestMemoryError.InvalidAddress;
        offset = address.Value - candidate.Start.Value;
        if (length > candidate.Size - offset)
            return GuestMemoryError.PartialBuffer;
        region = candidate;
        return GuestMemoryError.None;
    }

    /// <summary>
    /// A span over [address, address+length) when it lies inside one region. The span aliases guest
    /// memory that the guest may change concurrently: copy what you validate.
    /// </summary>
    public GuestMemoryError TryGetSpan(GuestAddress address, ulong length, out Span<byte> span)
    {
        span = default;
        if (length > int.MaxValue)
            return GuestMemoryError.PartialBuffer;
        var error = Locate(address, length, out var region, out ulong offset);
        if (error != GuestMemoryError.None)
            return error;
        span = HostSpan(region!, offset, (int)length);
        return GuestMemoryError.None;
    }

    /// <summary>
    /// A span over the longest start of [address, address+length) that lies in one region: it stops at the region's
    /// end (or at int.MaxValue bytes), never crossing into the next. Bulk copies call this again at address +
    /// span.Length for the rest, which must itself be in guest memory. Aliases guest memory like
    /// <see cref="TryGetSpan"/>. Fails when address is in no region or address + length wraps.
    /// </summary>
    public GuestMemoryError TryGetContiguousSpan(GuestAddress address, ulong length, out Span<byte> span)
    {
        span = default;
        if (!address.TryAdd(length, out _))
            return GuestMemoryError.Overflow;
        if (FindRegion(address) is not { } region)
            return GuestMemoryError.InvalidAddress;
        ulong offset = address.Value - region.Start.Value;
        span = HostSpan(region, offset, (int)Math.Min(Math.Min(length, region.Size - offset), int.MaxValue));
        return GuestMemoryError.None;
    }

    private MemoryRegion? FindRegion(GuestAddress address)
    {
        // Few regions (RAM below and above the PCI hole, BAR windows): a linear scan beats a search.
        foreach (var candidate in Volatile.Read(ref _regions))
        {
            if (candidate.Contains(address.Value))
                return candidate;
        }
        return null;
    }

    private Span<byte> HostSpan(MemoryRegion region, ulong offset, int length)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        // SAFETY: callers proved [offset, offset+length) lies inside the region, whose mapping lives until Dispose.
        return new Span<byte>((byte*)region.HostAddress + offset, length);
    }

    public GuestMemoryError TryRead(GuestAddress address, Span<byte> destination)
    {
        var error = TryGetSpan(address, (ulong)destination.Length, out var source);
        if (error == GuestMemoryError.None)
            source.CopyTo(destination);
        return error;
    }

    public GuestMemoryError TryWrite(GuestAddress address, ReadOnlySpan<byte> source)
    {
        var error = TryGetSpan(address, (ulong)source.Length, out var destination);
        if (error == GuestMemoryError.None)
            source.CopyTo(destination);
        return error;
    }

    public GuestMemoryError TryRead<T>(GuestAddress address, out T value) where T : unmanaged
    {
        var error = TryGetSpan(address, (ulong)sizeof(T), out var source);
        value = error == GuestMemoryError.None ? MemoryMarshal.Read<T>(source) : default;
        return error;
    }

    public GuestMemoryError TryWrite<T>(GuestAddress address, in T value) where T : unmanaged
    {
        var error = TryGetSpan(address, (ulong)sizeof(T), out var destination);
        if (error == GuestMemoryError.None)
            MemoryMarshal.Write(destination, in value);
        return error;
    }

    /// <summary>Throwing variants for VMM-chosen addresses (boot setup); guest input must use the Try forms.</summary>
    public void Write(GuestAddress address, ReadOnlySpan<byte> source) =>
        ThrowIfFailed(TryWrite(address, source), address, (ulong)source.Length);

    public void Write<T>(GuestAddress address, in T value) where T : unmanaged =>
        ThrowIfFailed(TryWrite(address, in value), address, (ulong)sizeof(T));

    public void Read(GuestAddress address, Span<byte> destination) =>
        ThrowIfFailed(TryRead(address, destination), address, (ulong)destination.Length);

    public T Read<T>(GuestAddress address) where T : unmanaged
    {
        ThrowIfFailed(TryRead(address, out T value), address, (ulong)sizeof(T));
        return value;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowIfFailed(GuestMemoryError error, GuestAddress address, ulong length)
    {
        if (error != GuestMemoryError.None)
            throw new GuestMemoryException(error, address, length);
    }

    public void Dispose()
    {
        lock (_writeLock)
        {
            if (_disposed)
                return;
            Volatile.Write(ref _disposed, true);
            foreach (var region in _regions)
                Unmap(region);
            _regions = [];
        }
    }
}
