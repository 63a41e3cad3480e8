using MiniVmm.Wayland;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace MiniVmm.GuestProxy.Shm;

/// <summary>
/// One client wl_shm_pool: the client's fd (kept, never shared with the host) and the host blob the compositor got
/// instead, mapped here so commits can copy into it. Buffers keep their pool alive after wl_shm_pool.destroy, as in
/// libwayland, so the pool is reference counted; the last release frees the blob through <see cref="_release"/>.
/// </summary>
internal sealed unsafe class ShmPool : IDisposable
{
    private readonly Fd _client;
    private readonly HostBlob _blob;
    private readonly Action<HostBlob> _release;
    private byte* _mapping;
    private int _references = 1; // the wl_shm_pool object itself

    private ShmPool(Fd client, HostBlob blob, byte* mapping, long size, Action<HostBlob> release)
    {
        _client = client;
        _blob = blob;
        _mapping = mapping;
        Size = size;
        _release = release;
    }

    /// <summary>The size the client declared (create_pool or the last resize).</summary>
    public long Size { get; private set; }

    public HostBlob Blob => _blob;

    /// <summary>Maps <paramref name="blob"/>; on failure both fds are closed and the blob released.</summary>
    public static ShmPool Create(Fd client, HostBlob blob, long size, Action<HostBlob> release)
    {
        var mapping = mmap(null, (size_t)blob.Size, PROT_READ | PROT_WRITE, MAP_SHARED, blob.Fd.Value, 0);
        if (mapping == (void*)-1)
        {
            var error = errno;
            client.Dispose();
            blob.Fd.Dispose();
            release(blob);
            throw new InvalidOperationException($"mmap of a {blob.Size}-byte host blob failed: errno {error}");
        }
        return new ShmPool(client, blob, (byte*)mapping, size, release);
    }

    /// <summary>
    /// wl_shm_pool.resize. A host blob cannot grow (virtio-gpu has no such command) and the compositor's pool fd
    /// cannot be swapped, so a resize is only accepted within the page-rounded blob; beyond it the caller closes the
    /// client. Growing for real needs a second compositor pool and rewriting later create_buffer requests onto it.
    /// </summary>
    public bool TryResize(long size)
    {
        if (size < Size || (ulong)size > _blob.Size)
            return false;
        Size = size;
        return true;
    }

    public void AddReference() => _references++;

    /// <summary>
    /// Copies bytes [offset, offset+length) of the client's pool into the blob. pread rather than an mmap of the
    /// client's fd: a client that truncates its file then gives a short read here, where a mapping would SIGBUS the
    /// whole proxy. False (with the reason) when the range is outside the pool or the file is too short.
    /// </summary>
    public bool TryCopy(long offset, long length, out string? error)
    {
        error = null;
        if (offset < 0 || length < 0 || offset + length > Size || _mapping == null)
        {
            error = $"bytes {offset}+{length} are outside the {Size}-byte pool";
            return false;
        }
        var done = 0L;
        while (done < length)
        {
            var read = pread(_client.Value, _mapping + offset + done, (size_t)(ulong)(length - done), offset + done);
            if (read < 0 && errno == EINTR)
                continue;
            if (read <= 0)
            {
                error = read == 0 ? $"the client's pool file ends before byte {offset + done}" : $"pread of the client's pool: errno {errno}";
                return false;
            }
            done += read;
        }
        return true;
    }

    /// <summary>Drops one reference (the pool object or a buffer); the last one unmaps and frees.</summary>
    public void Release()
    {
        if (--_references == 0)
            Dispose();
    }

    public void Dispose()
    {
        if (_mapping == null)
            return;
        _ = munmap(_mapping, (size_t)_blob.Size); // nothing useful to do about a failed munmap
        _mapping = null;
        _client.Dispose();
        _blob.Fd.Dispose();
        _release(_blob);
    }
}
