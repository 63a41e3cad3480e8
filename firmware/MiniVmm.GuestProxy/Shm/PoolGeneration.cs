using MiniVmm.Wayland;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace MiniVmm.GuestProxy.Shm;

/// <summary>
/// One host blob behind a client pool, mapped here so commits can copy into it. A host blob cannot grow, so a pool
/// that grows past its blob gets a new generation; each buffer keeps the generation it was created from, as the
/// compositor's buffers keep the pool (and fd) they were created from. References: the pool object while this is
/// its current generation, and each buffer. The last release unmaps and hands the blob to <see cref="_release"/>
/// (freed after the SEND that last names it).
/// </summary>
internal sealed unsafe class PoolGeneration
{
    private readonly SharedFd _client;
    private readonly Action<HostBlob> _release;
    private byte* _mapping;
    private int _references = 1; // the pool object, whose current generation this is

    private PoolGeneration(SharedFd client, HostBlob blob, byte* mapping, Action<HostBlob> release)
    {
        _client = client;
        Blob = blob;
        _mapping = mapping;
        _release = release;
        client.AddReference();
    }

    public HostBlob Blob { get; }

    /// <summary>Maps <paramref name="blob"/>; on failure the blob is released and null returned with the reason.</summary>
    public static PoolGeneration? Create(SharedFd client, HostBlob blob, Action<HostBlob> release, out string? error)
    {
        error = null;
        var mapping = mmap(null, (size_t)blob.Size, PROT_READ | PROT_WRITE, MAP_SHARED, blob.Fd.Value, 0);
        if (mapping != (void*)-1)
            return new PoolGeneration(client, blob, (byte*)mapping, release);
        error = $"mmap of a {blob.Size}-byte host blob failed: errno {errno}";
        blob.Fd.Dispose();
        release(blob);
        return null;
    }

    public void AddReference() => _references++;

    /// <summary>
    /// Copies bytes [offset, offset+length) of the client's pool into the blob. pread rather than an mmap of the
    /// client's fd: a client that truncates its file then gives a short read here, where a mapping would SIGBUS the
    /// whole proxy. False (with the reason) when the range is outside the blob or the file is too short.
    /// </summary>
    public bool TryCopy(long offset, long length, out string? error)
    {
        error = null;
        if (offset < 0 || length < 0 || (ulong)(offset + length) > Blob.Size || _mapping == null)
        {
            error = $"bytes {offset}+{length} are outside the {Blob.Size}-byte blob";
            return false;
        }
        var done = 0L;
        while (done < length)
        {
            var read = pread(_client.Fd.Value, _mapping + offset + done, (size_t)(ulong)(length - done), offset + done);
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
        if (--_references > 0 || _mapping == null)
            return;
        _ = munmap(_mapping, (size_t)Blob.Size); // nothing useful to do about a failed munmap
        _mapping = null;
        Blob.Fd.Dispose();
        _release(Blob);
        _client.Release();
    }
}
