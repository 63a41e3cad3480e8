using MiniVmm.Memory;

namespace MiniVmm.Gpu.Backend;

/// <summary>
/// A blob resource (RESOURCE_CREATE_BLOB): either guest pages (blob_mem GUEST, <see cref="Guest"/>) or host pages
/// in a memfd (HOST3D, <see cref="Host"/>). Guarded by the resource lock (see <see cref="VirtioGpuBackend"/>).
/// </summary>
internal sealed class BlobResource
{
    public BlobResource(uint id, uint blobMem, uint flags, ulong blobId, ulong size, MappedMemfd? host,
        BackingStore? guest, GuestMemory? guestMemory)
    {
        Id = id;
        BlobMem = blobMem;
        Flags = flags;
        BlobId = blobId;
        Size = size;
        Host = host;
        Guest = guest;
        GuestMemory = guestMemory;
    }

    public uint Id { get; }
    public uint BlobMem { get; }
    public uint Flags { get; }
    public ulong BlobId { get; }
    public ulong Size { get; }
    public MappedMemfd? Host { get; }
    public BackingStore? Guest { get; }

    /// <summary>The memory <see cref="Guest"/> lives in, kept so a flush (which carries no memory) can read it.</summary>
    public GuestMemory? GuestMemory { get; }

    /// <summary>What it costs the host budget: its pages (HOST3D), its entries (GUEST) and the per-object minimum.</summary>
    public long Charge => (long)(Host?.Size ?? 0) + HostBudget.PerObjectBytes + HostBudget.BackingCost(Guest?.EntryCount ?? 0);

    /// <summary>Where it sits in the host-visible region, or null when not mapped.</summary>
    public ulong? MappedOffset { get; set; }

    /// <summary>Copies [offset, offset + destination.Length) of the blob; the caller checked the range.</summary>
    public bool TryRead(ulong offset, Span<byte> destination)
    {
        if (Host is { } host)
        {
            host.GetSpan(offset, destination.Length).CopyTo(destination);
            return true;
        }
        return Guest is { } guest && GuestMemory is { } memory && guest.TryRead(memory, offset, destination) == GuestMemoryError.None;
    }
}
