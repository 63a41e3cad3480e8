using MiniVmm.CrossDomain;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;

namespace MiniVmm.GuestProxy.Shm;

/// <summary>
/// wl_shm.create_pool and the wl_shm_pool requests. The client's pool stays here; the compositor gets, for each
/// create_buffer, a pool on that buffer's own host blob under the client's pool id (the previous one destroyed first,
/// its delete_id hidden from the client, which still owns the id), and the buffer on it. So resize needs nothing from
/// the compositor, and a pool the compositor never had is destroyed with a wl_display.sync under its id: the
/// compositor's delete_id for that callback is what the client waits for, its done event is hidden.
/// </summary>
internal sealed partial class ShmTracker
{
    private string? CreatePool(uint shm, ref WireReader body, Queue<Fd> fds, out bool replaced)
    {
        replaced = false;
        if (!body.TryReadNewId(out var id) || !body.TryReadInt(out var size))
            return null; // malformed: the compositor raises the protocol error
        if (!fds.TryDequeue(out var fd))
            return "wl_shm.create_pool came without its fd";
        var client = new SharedFd(fd);
        if (size <= 0)
        {
            client.Release();
            return $"wl_shm.create_pool of {size} bytes";
        }
        if (_pools.Remove(id, out var stale))
            stale.Client.Release(); // an id still in use: the compositor would reject it, and the old entry must not leak
        _pools[id] = new ShmPool(shm, client, size);
        replaced = true; // nothing goes to the compositor until a buffer is made
        return null;
    }

    private string? PoolRequest(uint id, ShmPool pool, ushort opcode, ref WireReader body, List<CrossDomainIdentifier> identifiers, WireWriter replacement, out bool replaced)
    {
        replaced = false;
        if (opcode == WlShmPool.Requests.CreateBuffer)
        {
            replaced = true;
            return CreateBuffer(id, pool, ref body, identifiers, replacement);
        }
        if (opcode == WlShmPool.Requests.Resize && body.TryReadInt(out var size))
        {
            if (size < pool.Size)
                return $"wl_shm_pool.resize from {pool.Size} down to {size} bytes (pools only grow)";
            pool.Size = size;
            replaced = true; // the compositor's pool is one buffer's blob: nothing to resize there
        }
        else if (opcode == WlShmPool.Requests.Destroy)
        {
            _pools.Remove(id);
            pool.Client.Release(); // buffers keep their own references, as in libwayland
            if (!pool.OnCompositor)
            {
                replaced = true;
                WlDisplay.Sync(replacement, 1, id);
                events.HideEvent(id);
            }
        }
        return null;
    }

    /// <summary>
    /// wl_shm_pool.create_buffer: checked as the compositor would, then GET_IMAGE_REQUIREMENTS for the buffer's own
    /// format, width and height, a HOST3D blob with exactly the blob_id and size the host answered (crosvm's rule), and
    /// in place of the request: [destroy the compositor's pool under this id], create_pool(id, blob) on the pool's
    /// wl_shm, create_buffer on it at the host's offset and stride. The blob's identifier rides with these bytes.
    /// </summary>
    private string? CreateBuffer(uint poolId, ShmPool pool, ref WireReader body, List<CrossDomainIdentifier> identifiers, WireWriter replacement)
    {
        if (!body.TryReadNewId(out var id) || !body.TryReadInt(out var offset) || !body.TryReadInt(out var width)
            || !body.TryReadInt(out var height) || !body.TryReadInt(out var stride) || !body.TryReadUInt(out var format))
            return "a malformed wl_shm_pool.create_buffer";
        var drmFormat = ShmFormats.ToDrm(format);
        if (!ShmFormats.TryGetBytesPerPixel(drmFormat, out var bytesPerPixel))
            return $"wl_shm_pool.create_buffer in format {CrossDomainWire.Fourcc(drmFormat)} (the proxy copies packed single-plane formats)";
        if (offset < 0 || width <= 0 || height <= 0 || stride < (long)width * bytesPerPixel || offset + (long)stride * height > pool.Size)
            return $"wl_shm_pool.create_buffer of {width}x{height}, stride {stride}, at {offset} in a {pool.Size}-byte pool";
        var shm = _shms.Contains(pool.Shm) ? pool.Shm : _shms.FirstOrDefault();
        if (shm == 0)
            return "wl_shm_pool.create_buffer after the client released every wl_shm (nothing to make the compositor's pool on)";
        ImageRequirements layout;
        HostBlob blob;
        try
        {
            layout = transport.GetImageRequirements((uint)width, (uint)height, drmFormat);
            blob = transport.CreateHostBlob(layout);
        }
        catch (InvalidOperationException e)
        {
            return "wl_shm_pool.create_buffer: " + e.Message;
        }
        var shape = new ShmBufferShape(offset, width, height, stride);
        if (HostBuffer.Create(pool.Client, shape, bytesPerPixel, layout, blob, out var error) is not { } buffer)
        {
            blob.Fd.Dispose();
            transport.DestroyHostBlob(blob);
            return "wl_shm_pool.create_buffer: " + error;
        }
        if (_buffers.Remove(id, out var stale))
        {
            stale.Release(); // an id still in use: as for pools
            _toFree.Add(stale.Blob);
        }
        _buffers[id] = buffer;
        if (pool.OnCompositor)
        {
            WlShmPool.Destroy(replacement, poolId);
            events.HideDeleteId(poolId);
        }
        var start = replacement.BeginMessage(shm, WlShm.Requests.CreatePool);
        replacement.WriteNewId(poolId);
        replacement.WriteInt((int)Math.Min(blob.Size, int.MaxValue)); // the fd travels beside the bytes, as the blob's identifier
        replacement.EndMessage(start);
        start = replacement.BeginMessage(poolId, WlShmPool.Requests.CreateBuffer);
        replacement.WriteNewId(id);
        replacement.WriteInt((int)layout.Offset);
        replacement.WriteInt(width);
        replacement.WriteInt(height);
        replacement.WriteInt((int)layout.Stride);
        replacement.WriteUInt(format);
        replacement.EndMessage(start);
        pool.OnCompositor = true;
        identifiers.Add(new(blob.ResourceId, (uint)CrossDomainIdType.VirtgpuBlob, (uint)blob.Size));
        return null;
    }
}
