namespace MiniVmm.GuestProxy.Shm;

/// <summary>
/// One client wl_shm_pool object: the client's fd (kept, never shared with the host), the wl_shm it was created
/// from, its declared size and its current <see cref="PoolGeneration"/> (the host blob the compositor's pool of the
/// same id now uses). Older generations live on while buffers made from them do.
/// </summary>
internal sealed class ShmPool(uint shm, SharedFd client, PoolGeneration current, long size)
{
    /// <summary>The wl_shm that made this pool: a pool that outgrows its blob is re-created there.</summary>
    public uint Shm => shm;

    public SharedFd Client => client;

    public PoolGeneration Current { get; private set; } = current;

    /// <summary>The size the client declared (create_pool or the last resize); never beyond the current blob.</summary>
    public long Size { get; private set; } = size;

    /// <summary>Whether a resize to <paramref name="size"/> still fits the current blob (no new generation needed).</summary>
    public bool Fits(long size) => (ulong)size <= Current.Blob.Size;

    /// <summary>A resize within the current blob (the caller checked <see cref="Fits"/>): forwarded as it is.</summary>
    public void Resize(long size) => Size = size;

    /// <summary>Moves to <paramref name="next"/> (a blob of at least <paramref name="size"/>); the old generation stays for its buffers.</summary>
    public void Grow(PoolGeneration next, long size)
    {
        var old = Current;
        Current = next;
        Size = size;
        old.Release();
    }

    /// <summary>wl_shm_pool.destroy (or the client going): buffers keep their generations, as in libwayland.</summary>
    public void Destroy()
    {
        Current.Release();
        client.Release();
    }
}
