using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;

namespace MiniVmm.GuestProxy.Shm;

/// <summary>
/// Follows one client's requests far enough to serve wl_shm across the VM boundary: which ids are wl_registry,
/// wl_compositor, wl_shm, wl_shm_pool, wl_buffer and wl_surface, and which buffer each surface has attached.
/// wl_shm.create_pool's fd is replaced by a host blob (the message bytes are unchanged: fds travel beside them), and
/// wl_surface.commit first copies the attached buffer's bytes into that blob (copy-on-commit: the client's memfd is
/// guest memory the host cannot see). Every argument is the client's and is checked before use; a malformed
/// request is left for the compositor to reject. Used by the sending thread only.
/// </summary>
internal sealed class ShmTracker(ICrossDomainTransport transport) : IDisposable
{
    private const long MaxPoolSize = 128L << 20; // the device's host memory is capped at 256 MiB by default
    private readonly HashSet<uint> _registries = [], _compositors = [], _shms = [], _surfaces = [];
    private readonly Dictionary<uint, ShmPool> _pools = [];
    private readonly Dictionary<uint, ShmBuffer> _buffers = [];
    private readonly Dictionary<uint, uint> _attached = []; // surface → wl_buffer id (0: none)
    private readonly List<HostBlob> _toFree = [];

    private readonly record struct ShmBuffer(ShmPool Pool, long Offset, long Length);

    /// <summary>
    /// Looks at one complete client request. A wl_shm.create_pool takes the next fd from <paramref name="fds"/> and
    /// adds the blob that replaces it to <paramref name="identifiers"/>. Returns null, or why the client must go.
    /// </summary>
    public string? Inspect(WireMessage message, Queue<Fd> fds, List<CrossDomainIdentifier> identifiers)
    {
        var id = message.ObjectId;
        var body = new WireReader(message.Body, null);
        if (id == 1 && message.Opcode == WlDisplay.Requests.GetRegistry && body.TryReadNewId(out var registry))
            _registries.Add(registry);
        else if (_registries.Contains(id) && message.Opcode == WlRegistry.Requests.Bind)
            Bind(ref body);
        else if (_compositors.Contains(id) && message.Opcode == WlCompositor.Requests.CreateSurface && body.TryReadNewId(out var surface))
            _surfaces.Add(surface);
        else if (_shms.Contains(id) && message.Opcode == WlShm.Requests.CreatePool)
            return CreatePool(ref body, fds, identifiers);
        else if (_pools.TryGetValue(id, out var pool))
            return PoolRequest(id, pool, message.Opcode, ref body);
        else if (_buffers.TryGetValue(id, out var buffer) && message.Opcode == WlBuffer.Requests.Destroy)
        {
            _buffers.Remove(id);
            buffer.Pool.Release();
        }
        else if (_surfaces.Contains(id))
            return SurfaceRequest(id, message.Opcode, ref body);
        return null;
    }

    /// <summary>Frees the blobs of pools released during the last batch, now that the SEND naming them is done.</summary>
    public void AfterSend()
    {
        foreach (var blob in _toFree)
            transport.DestroyHostBlob(blob);
        _toFree.Clear();
    }

    public void Dispose()
    {
        foreach (var pool in _pools.Values.Concat(_buffers.Values.Select(b => b.Pool)).Distinct())
            pool.Dispose();
        _pools.Clear();
        _buffers.Clear();
        _toFree.Clear(); // the context goes with the transport; its blobs go with it
    }

    private void Bind(ref WireReader body)
    {
        if (!body.TryReadUInt(out _) || !body.TryReadStringUtf8(false, out var name, out _) || !body.TryReadUInt(out _) || !body.TryReadNewId(out var id))
            return;
        if (name.SequenceEqual("wl_shm"u8))
            _shms.Add(id);
        else if (name.SequenceEqual("wl_compositor"u8))
            _compositors.Add(id);
    }

    private string? CreatePool(ref WireReader body, Queue<Fd> fds, List<CrossDomainIdentifier> identifiers)
    {
        if (!body.TryReadNewId(out var id) || !body.TryReadInt(out var size))
            return null; // malformed: the compositor raises the protocol error
        if (!fds.TryDequeue(out var client))
            return "wl_shm.create_pool came without its fd";
        if (size <= 0 || size > MaxPoolSize)
        {
            client.Dispose();
            return $"wl_shm.create_pool of {size} bytes (this proxy serves 1..{MaxPoolSize})";
        }
        var blob = transport.CreateHostBlob(((ulong)size + 4095) & ~4095UL);
        var pool = ShmPool.Create(client, blob, size, _toFree.Add);
        _pools[id] = pool;
        identifiers.Add(new(blob.ResourceId, (uint)CrossDomainIdType.VirtgpuBlob, (uint)blob.Size));
        return null;
    }

    private string? PoolRequest(uint id, ShmPool pool, ushort opcode, ref WireReader body)
    {
        if (opcode == WlShmPool.Requests.CreateBuffer)
        {
            if (body.TryReadNewId(out var buffer) && body.TryReadInt(out var offset) && body.TryReadInt(out var width)
                && body.TryReadInt(out var height) && body.TryReadInt(out var stride)
                && offset >= 0 && width > 0 && height > 0 && stride > 0 && offset + (long)stride * height <= pool.Size)
            {
                pool.AddReference();
                _buffers[buffer] = new ShmBuffer(pool, offset, (long)stride * height);
            } // otherwise the compositor rejects it (invalid stride or size) and no copy is ever made for it
        }
        else if (opcode == WlShmPool.Requests.Destroy)
        {
            _pools.Remove(id);
            pool.Release();
        }
        else if (opcode == WlShmPool.Requests.Resize && body.TryReadInt(out var size) && !pool.TryResize(size))
            return $"wl_shm_pool.resize to {size} bytes: the host blob holds {pool.Blob.Size} and cannot grow";
        return null;
    }

    private string? SurfaceRequest(uint id, ushort opcode, ref WireReader body)
    {
        if (opcode == WlSurface.Requests.Attach && body.TryReadObject(nullable: true, out var buffer))
            _attached[id] = buffer;
        else if (opcode == WlSurface.Requests.Destroy)
        {
            _surfaces.Remove(id);
            _attached.Remove(id);
        }
        else if (opcode == WlSurface.Requests.Commit && _attached.TryGetValue(id, out var attached)
            && _buffers.TryGetValue(attached, out var shm) && !shm.Pool.TryCopy(shm.Offset, shm.Length, out var error))
            return "wl_surface.commit: " + error;
        return null;
    }
}
