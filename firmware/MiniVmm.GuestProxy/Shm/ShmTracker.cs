using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;

namespace MiniVmm.GuestProxy.Shm;

/// <summary>
/// Follows one client's requests far enough to serve wl_shm across the VM boundary: which ids are wl_registry,
/// wl_compositor, wl_shm, wl_shm_pool, wl_buffer and wl_surface, and which buffer each surface has attached.
/// wl_shm.create_pool's fd is replaced by a host blob (the message bytes are unchanged: fds travel beside them), and
/// wl_surface.commit first copies the attached buffer's bytes into the blob of the pool generation the buffer was
/// made from (copy-on-commit: the client's memfd is guest memory the host cannot see). A pool resized past its blob
/// is re-created on a new blob (see <see cref="Resize"/>). Every argument is the client's and is checked before use;
/// a malformed request is left for the compositor to reject. Used by the sending thread only.
/// </summary>
internal sealed partial class ShmTracker(ICrossDomainTransport transport, ClientEventStream events) : IDisposable
{
    private const long MaxPoolSize = 128L << 20; // the device's host memory is capped at 256 MiB by default
    private readonly HashSet<uint> _registries = [], _compositors = [], _shms = [], _surfaces = [];
    private readonly Dictionary<uint, ShmPool> _pools = [];
    private readonly Dictionary<uint, ShmBuffer> _buffers = [];
    private readonly Dictionary<uint, uint> _attached = []; // surface → wl_buffer id (0: none)
    private readonly List<HostBlob> _toFree = [];

    // wl_shm.release (opcode 1, wl_shm version 2): Debian's wayland.xml is version 1, so no constant is generated;
    // a guest client may still bind version 2 from a newer host compositor.
    private const ushort WlShmRelease = 1;

    private readonly record struct ShmBuffer(PoolGeneration Generation, long Offset, long Length);

    /// <summary>
    /// Looks at one complete client request. A wl_shm.create_pool takes the next fd from <paramref name="fds"/> and
    /// adds the blob that replaces it to <paramref name="identifiers"/>. Requests to send instead of this one are
    /// written to <paramref name="replacement"/> (left empty: send it as it is). Returns null, or why the client must go.
    /// </summary>
    public string? Inspect(WireMessage message, Queue<Fd> fds, List<CrossDomainIdentifier> identifiers, WireWriter replacement)
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
            return CreatePool(id, ref body, fds, identifiers);
        else if (_shms.Contains(id) && message.Opcode == WlShmRelease)
            _shms.Remove(id); // its pools live on, but a pool re-created on growth needs a live wl_shm
        else if (_pools.TryGetValue(id, out var pool))
            return PoolRequest(id, pool, message.Opcode, ref body, identifiers, replacement);
        else if (_buffers.TryGetValue(id, out var buffer) && message.Opcode == WlBuffer.Requests.Destroy)
        {
            _buffers.Remove(id);
            buffer.Generation.Release();
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
        foreach (var pool in _pools.Values)
            pool.Destroy();
        foreach (var buffer in _buffers.Values)
            buffer.Generation.Release();
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
            && _buffers.TryGetValue(attached, out var shm) && !shm.Generation.TryCopy(shm.Offset, shm.Length, out var error))
            return "wl_surface.commit: " + error;
        return null;
    }
}
