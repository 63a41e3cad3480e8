using MiniVmm.Gpu.CrossDomain;

namespace MiniVmm.Gpu.Backend;

/// <summary>
/// The one budget for host memory a guest makes the device hold (<c>--gpu max-host-memory=SIZE</c>,
/// <see cref="GpuOptions.MaxHostMemoryBytes"/>), charged at real cost: a resource's pixels plus a per-object minimum
/// (its objects and table entries cost far more than a 1x1 resource's 4 bytes), every backing entry (the parsed entry
/// and the stored run), every blob (a HOST3D blob's pages, a GUEST blob's entries), contexts, and what a scanout makes
/// the display hold (the window's two shm buffers and its shadow frame, plus a blob scanout's own copy). Beside the
/// bytes, object counts are capped (<see cref="MaxObjects"/>, <see cref="MaxBackingEntries"/>), so a flood of tiny
/// objects stops as early as one huge one. Bytes queued for compositors by cross-domain channels (their
/// <see cref="CrossDomainLedger"/>) count against the same budget. A refused charge is RESP_ERR_OUT_OF_MEMORY and the device goes on serving.
/// Shared by the resource, blob, scanout and context tables; guarded by the resource lock (see <see cref="VirtioGpuBackend"/>).
/// </summary>
internal sealed class HostBudget(long maxBytes)
{
    /// <summary>Charged per resource, blob or context on top of its pixels or pages: the objects, table slots and strings one costs.</summary>
    public const long PerObjectBytes = 256;

    /// <summary>Charged per backing mem entry: the parsed 16-byte entry plus the stored 16-byte guest buffer.</summary>
    public const long PerBackingEntryBytes = 32;

    /// <summary>Copies of a scanout the host window holds: two shm buffers and the shadow frame.</summary>
    public const int WindowCopies = 3;

    /// <summary>Most resources, blobs and contexts at once.</summary>
    public const int MaxObjects = 1 << 16;

    /// <summary>Most backing entries held by all resources and GUEST blobs together.</summary>
    public const long MaxBackingEntries = 1 << 20;

    /// <summary>Most host fds held for the guest's blobs (each HOST3D blob keeps its memfd open and mapped).</summary>
    public const int MaxFds = 4096;

    public long MaxBytes { get; } = maxBytes;
    public long Bytes { get; private set; }
    public int Objects { get; private set; }
    public long BackingEntries { get; private set; }
    public int Fds { get; private set; }

    /// <summary>
    /// Bytes of pixel buffers and memfds held now (2D pixels, HOST3D blob pages, blob scanout shadows, winsrv shares):
    /// what <see cref="VirtioGpuBackend.HostBytes"/> reports. Not a cap of its own: <see cref="Bytes"/> counts them too.
    /// </summary>
    public long HostBytes { get; set; }

    /// <summary>The device's cross-domain totals: their queued bytes count against <see cref="MaxBytes"/> too.</summary>
    public CrossDomainLedger? CrossDomain { get; set; }

    /// <summary>What is left for queues (read without the resource lock by the ledger: a long read is atomic).</summary>
    public long RoomForQueues => MaxBytes - Bytes - (CrossDomain?.QueuedBytes ?? 0);

    /// <summary>Charges <paramref name="bytes"/>, <paramref name="objects"/> and <paramref name="entries"/>, or nothing and the refusal.</summary>
    public GpuResponse? TryCharge(string what, long bytes, int objects = 0, long entries = 0, int fds = 0)
    {
        if (Refuse(what, bytes, objects, entries, fds) is { } refused)
            return refused;
        Bytes += bytes;
        Objects += objects;
        BackingEntries += entries;
        Fds += fds;
        return null;
    }

    /// <summary>The refusal a charge would get, without charging.</summary>
    public GpuResponse? Refuse(string what, long bytes, int objects = 0, long entries = 0, int fds = 0)
    {
        if (fds > MaxFds - Fds)
            return GpuResponse.ErrOutOfMemory($"{what}: {MaxFds} host fds are held for blobs already");
        if (objects > MaxObjects - Objects)
            return GpuResponse.ErrOutOfMemory($"{what}: {MaxObjects} resources, blobs and contexts exist already");
        if (entries > MaxBackingEntries - BackingEntries)
            return GpuResponse.ErrOutOfMemory($"{what}: {entries} backing entries would pass the cap of {MaxBackingEntries} ({BackingEntries} held)");
        long queued = CrossDomain?.QueuedBytes ?? 0;
        if (bytes > MaxBytes - Bytes - queued)
            return GpuResponse.ErrOutOfMemory(
                $"{what} costs {bytes} bytes of host memory; {Bytes + queued} of the {MaxBytes}-byte budget (max-host-memory) are in use");
        return null;
    }

    public void Release(long bytes, int objects = 0, long entries = 0, int fds = 0)
    {
        Bytes -= bytes;
        Objects -= objects;
        BackingEntries -= entries;
        Fds -= fds;
    }

    public void Clear() => (Bytes, Objects, BackingEntries, Fds, HostBytes) = (0, 0, 0, 0, 0);

    public static long BackingCost(long entries) => entries * PerBackingEntryBytes;

    /// <summary>What showing a <paramref name="width"/> x <paramref name="height"/> scanout holds: the window's copies, and a blob scanout's shadow.</summary>
    public static long ScanoutCost(uint width, uint height, bool blob) =>
        (long)width * height * PixelFormats.BytesPerPixel * (WindowCopies + (blob ? 1 : 0));
}
