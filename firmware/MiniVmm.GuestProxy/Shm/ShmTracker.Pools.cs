using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;

namespace MiniVmm.GuestProxy.Shm;

/// <summary>wl_shm.create_pool and the wl_shm_pool requests: blobs, generations, and growing past a blob.</summary>
internal sealed partial class ShmTracker
{
    private string? CreatePool(uint shm, ref WireReader body, Queue<Fd> fds, List<CrossDomainIdentifier> identifiers)
    {
        if (!body.TryReadNewId(out var id) || !body.TryReadInt(out var size))
            return null; // malformed: the compositor raises the protocol error
        if (!fds.TryDequeue(out var fd))
            return "wl_shm.create_pool came without its fd";
        var client = new SharedFd(fd);
        if (size <= 0 || size > MaxPoolSize)
        {
            client.Release();
            return $"wl_shm.create_pool of {size} bytes (this proxy serves 1..{MaxPoolSize})";
        }
        if (NewGeneration(client, size, identifiers, out var generation) is { } error)
        {
            client.Release();
            return "wl_shm.create_pool: " + error;
        }
        if (_pools.Remove(id, out var stale))
            stale.Destroy(); // an id still in use: the compositor rejects it, and the old entry must not leak
        _pools[id] = new ShmPool(shm, client, generation!, size);
        return null;
    }

    private string? PoolRequest(uint id, ShmPool pool, ushort opcode, ref WireReader body, List<CrossDomainIdentifier> identifiers, WireWriter replacement)
    {
        if (opcode == WlShmPool.Requests.CreateBuffer)
        {
            if (body.TryReadNewId(out var buffer) && body.TryReadInt(out var offset) && body.TryReadInt(out var width)
                && body.TryReadInt(out var height) && body.TryReadInt(out var stride)
                && offset >= 0 && width > 0 && height > 0 && stride > 0 && offset + (long)stride * height <= pool.Size)
            {
                if (_buffers.Remove(buffer, out var stale))
                    stale.Generation.Release(); // an id still in use: as for pools
                pool.Current.AddReference();
                _buffers[buffer] = new ShmBuffer(pool.Current, offset, (long)stride * height);
            } // otherwise the compositor rejects it (invalid stride or size) and no copy is ever made for it
        }
        else if (opcode == WlShmPool.Requests.Destroy)
        {
            _pools.Remove(id);
            pool.Destroy();
        }
        else if (opcode == WlShmPool.Requests.Resize && body.TryReadInt(out var size))
            return Resize(id, pool, size, identifiers, replacement);
        return null;
    }

    /// <summary>
    /// wl_shm_pool.resize. Within the current blob it goes through as it is. Beyond it, a host blob cannot grow and
    /// the compositor's pool cannot take another fd, so the compositor's pool is re-created on a new blob under the
    /// same id: destroy, then create_pool(new_id = that id) on the pool's wl_shm (or another live one if the client
    /// released it). libwayland-server frees the id on
    /// destroy, so taking it again is accepted, and its buffers hold their pool: buffers made before the resize keep
    /// the old blob there, as their old generation here. The delete_id answering the destroy is hidden from the
    /// client, which still owns the id. Only a shrink, a size over the cap or a failed blob closes the client.
    /// </summary>
    private string? Resize(uint id, ShmPool pool, int size, List<CrossDomainIdentifier> identifiers, WireWriter replacement)
    {
        if (size < pool.Size)
            return $"wl_shm_pool.resize from {pool.Size} down to {size} bytes (pools only grow)";
        if (pool.Fits(size))
        {
            pool.Resize(size);
            return null;
        }
        if (size > MaxPoolSize)
            return $"wl_shm_pool.resize to {size} bytes (this proxy serves 1..{MaxPoolSize})";
        var shm = _shms.Contains(pool.Shm) ? pool.Shm : _shms.FirstOrDefault();
        if (shm == 0)
            return "wl_shm_pool.resize past its host blob after the client released every wl_shm (nothing to re-create the pool on)";
        if (NewGeneration(pool.Client, size, identifiers, out var generation) is { } error)
            return "wl_shm_pool.resize: " + error;
        pool.Grow(generation!, size);
        WlShmPool.Destroy(replacement, id);
        var start = replacement.BeginMessage(shm, WlShm.Requests.CreatePool);
        replacement.WriteNewId(id);
        replacement.WriteInt(size); // the fd travels beside the bytes, as the new blob's identifier
        replacement.EndMessage(start);
        events.HideDeleteId(id);
        return null;
    }

    /// <summary>A page-rounded host blob for <paramref name="size"/> bytes, mapped, and named in <paramref name="identifiers"/>.</summary>
    private string? NewGeneration(SharedFd client, long size, List<CrossDomainIdentifier> identifiers, out PoolGeneration? generation)
    {
        generation = null;
        HostBlob blob;
        try
        {
            blob = transport.CreateHostBlob(((ulong)size + 4095) & ~4095UL);
        }
        catch (InvalidOperationException e)
        {
            return e.Message;
        }
        generation = PoolGeneration.Create(client, blob, _toFree.Add, out var error);
        if (generation is null)
            return error;
        identifiers.Add(new(blob.ResourceId, (uint)CrossDomainIdType.VirtgpuBlob, (uint)blob.Size));
        return null;
    }
}
