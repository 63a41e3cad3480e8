namespace MiniVmm.GuestProxy.Shm;

/// <summary>
/// One client wl_shm_pool object. The compositor never sees the client's pool: its fd stays here (the copies read
/// from it) and its size only bounds the buffers made from it. The compositor's object of the same id is, at any
/// time, a pool on the host blob of the last buffer made from it (<see cref="OnCompositor"/>), because each buffer
/// gets a blob of its own and a compositor pool cannot change its fd.
/// </summary>
internal sealed class ShmPool(uint shm, SharedFd client, int size)
{
    /// <summary>The wl_shm that made this pool: the compositor's per-buffer pools are made there.</summary>
    public uint Shm => shm;

    public SharedFd Client => client;

    /// <summary>The size the client declared (create_pool or the last resize).</summary>
    public int Size { get; set; } = size;

    /// <summary>Whether the compositor has a pool under this id (after the first create_buffer).</summary>
    public bool OnCompositor { get; set; }
}
