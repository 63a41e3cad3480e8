using MiniVmm.CrossDomain;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;

namespace MiniVmm.GuestProxy.Shm;

/// <summary>
/// Follows one client's requests far enough to serve wl_shm across the VM boundary: which ids are wl_registry,
/// wl_compositor, wl_shm, wl_shm_pool, wl_buffer and wl_surface. The client's pool never reaches the host (a guest
/// memfd cannot): each wl_buffer gets a host blob of its own, sized and laid out by GET_IMAGE_REQUIREMENTS for its
/// format, width and height, on which the compositor's buffer of the same id is made (see ShmTracker.Pools.cs). A
/// wl_surface.commit then copies into the attached buffer's blob only what is stale there: the damage of this commit
/// and of the commits since that buffer was last shown on the surface (a double-buffered client redraws the other
/// buffer's old damage too, without declaring it again). So a 512 MiB pool with two 1080p buffers costs two 1080p
/// blobs, and a 64x64 damage copies 64x64 pixels. Every argument is the client's and is checked before use; a request
/// the compositor would refuse with a protocol error closes the client here. Used by the sending thread only.
/// </summary>
internal sealed partial class ShmTracker(ICrossDomainTransport transport, ClientEventStream events) : IDisposable
{
    private readonly HashSet<uint> _registries = [], _compositors = [], _shms = [];
    private readonly Dictionary<uint, ShmPool> _pools = [];
    private readonly Dictionary<uint, HostBuffer> _buffers = [];
    private readonly Dictionary<uint, SurfaceState> _surfaces = [];
    private readonly List<HostBlob> _toFree = [];
    private bool _viewporter; // a bound wp_viewporter may map surface damage to buffer pixels in ways not followed here

    /// <summary>Pixel bytes copied from client pools into host blobs so far.</summary>
    public long BytesCopied { get; private set; }

    /// <summary>Commits that refreshed a host buffer.</summary>
    public long Refreshes { get; private set; }

    /// <summary>
    /// Looks at one complete client request. Fds it takes (wl_shm.create_pool's) come from <paramref name="fds"/>;
    /// host blobs the requests to send name go to <paramref name="identifiers"/>. When <paramref name="replaced"/>,
    /// <paramref name="replacement"/> holds what to send instead (possibly nothing). Null, or why the client must go.
    /// </summary>
    public string? Inspect(WireMessage message, Queue<Fd> fds, List<CrossDomainIdentifier> identifiers, WireWriter replacement, out bool replaced)
    {
        replaced = false;
        var id = message.ObjectId;
        var body = new WireReader(message.Body, null);
        if (id == 1 && message.Opcode == WlDisplay.Requests.GetRegistry && body.TryReadNewId(out var registry))
            _registries.Add(registry);
        else if (_registries.Contains(id) && message.Opcode == WlRegistry.Requests.Bind)
            Bind(ref body);
        else if (_compositors.Contains(id) && message.Opcode == WlCompositor.Requests.CreateSurface && body.TryReadNewId(out var surface))
            _surfaces[surface] = new SurfaceState();
        else if (_shms.Contains(id) && message.Opcode == WlShm.Requests.CreatePool)
            return CreatePool(id, ref body, fds, out replaced);
        else if (_shms.Contains(id) && message.Opcode == WlShm.Requests.Release)
            _shms.Remove(id); // its pools live on, but their compositor pools need a live wl_shm
        else if (_pools.TryGetValue(id, out var pool))
            return PoolRequest(id, pool, message.Opcode, ref body, identifiers, replacement, out replaced);
        else if (_buffers.ContainsKey(id) && message.Opcode == WlBuffer.Requests.Destroy)
            DestroyBuffer(id);
        else if (_surfaces.TryGetValue(id, out var state))
            return SurfaceRequest(id, state, message.Opcode, ref body);
        return null;
    }

    /// <summary>Frees the blobs of buffers destroyed during the last batch, now that the SEND naming them is done.</summary>
    public void AfterSend()
    {
        foreach (var blob in _toFree)
            transport.DestroyHostBlob(blob);
        _toFree.Clear();
    }

    public void Dispose()
    {
        foreach (var pool in _pools.Values)
            pool.Client.Release();
        foreach (var buffer in _buffers.Values)
            buffer.Release();
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
        else if (name.SequenceEqual("wp_viewporter"u8))
            _viewporter = true;
    }

    private void DestroyBuffer(uint id)
    {
        _buffers.Remove(id, out var buffer);
        buffer!.Release();
        _toFree.Add(buffer.Blob);
        foreach (var surface in _surfaces.Values)
            surface.Shown.Remove(id);
    }

    private string? SurfaceRequest(uint id, SurfaceState surface, ushort opcode, ref WireReader body)
    {
        if (opcode == WlSurface.Requests.Attach && body.TryReadObject(nullable: true, out var buffer))
            surface.Attach(buffer);
        else if (opcode == WlSurface.Requests.Damage && TryReadBox(ref body, out var box))
            surface.AddDamage(box, inBufferPixels: false);
        else if (opcode == WlSurface.Requests.DamageBuffer && TryReadBox(ref body, out box))
            surface.AddDamage(box, inBufferPixels: true);
        else if (opcode == WlSurface.Requests.SetBufferScale && body.TryReadInt(out var scale))
            surface.PendingScale = scale;
        else if (opcode == WlSurface.Requests.SetBufferTransform && body.TryReadInt(out var transform))
            surface.PendingTransform = transform;
        else if (opcode == WlSurface.Requests.Destroy)
            _surfaces.Remove(id);
        else if (opcode == WlSurface.Requests.Commit)
            return Commit(surface);
        return null;
    }

    /// <summary>
    /// The surface's damage, in the attached buffer's pixels, becomes stale in every host buffer shown on this surface;
    /// then the attached buffer's stale rectangles are copied. Surface-coordinate damage is scaled by the buffer scale;
    /// under a transform, or with wp_viewporter bound, it stands for the whole buffer (never too little).
    /// </summary>
    private string? Commit(SurfaceState surface)
    {
        surface.Apply();
        var damage = surface.TakeDamage();
        if (!_buffers.TryGetValue(surface.Current, out var buffer))
            return null;
        surface.Shown.Add(surface.Current);
        var exactScale = surface.Transform == 0 && !_viewporter && surface.Scale >= 1 ? surface.Scale : 0;
        foreach (var shownId in surface.Shown)
        {
            var shown = _buffers[shownId];
            foreach (var (box, inBufferPixels) in damage)
            {
                var scale = inBufferPixels ? 1 : exactScale;
                var clipped = scale == 0 ? new PixelBox(0, 0, shown.Width, shown.Height)
                    : PixelBox.Clip(box.X, box.Y, box.W, box.H, scale, shown.Width, shown.Height);
                if (clipped is { } stale)
                    shown.Stale.Add(stale);
            }
        }
        var copied = buffer.Refresh(out var error);
        if (copied < 0)
            return "wl_surface.commit: " + error;
        BytesCopied += copied;
        Refreshes++;
        return null;
    }

    private static bool TryReadBox(ref WireReader body, out (int X, int Y, int W, int H) box)
    {
        box = default;
        if (!body.TryReadInt(out var x) || !body.TryReadInt(out var y) || !body.TryReadInt(out var w) || !body.TryReadInt(out var h))
            return false;
        box = (x, y, w, h);
        return true;
    }

    /// <summary>A wl_surface's double-buffered state, as far as copying needs it.</summary>
    private sealed class SurfaceState
    {
        private uint? _pendingBuffer;

        public uint Current { get; private set; }
        public int Scale { get; private set; } = 1;
        public int Transform { get; private set; }
        public int PendingScale { get; set; } = 1;
        public int PendingTransform { get; set; }
        private readonly List<((int X, int Y, int W, int H) Box, bool InBufferPixels)> _damage = [];

        /// <summary>Live buffers committed on this surface: each must hear of damage made while another was shown.</summary>
        public HashSet<uint> Shown { get; } = [];

        public void Attach(uint buffer) => _pendingBuffer = buffer;

        public void Apply()
        {
            if (_pendingBuffer is { } buffer)
                Current = buffer;
            _pendingBuffer = null;
            (Scale, Transform) = (PendingScale, PendingTransform);
        }

        /// <summary>Damage until the next commit; past <see cref="DamageRegion.MaxBoxes"/> requests it is the whole buffer.</summary>
        public void AddDamage((int X, int Y, int W, int H) box, bool inBufferPixels)
        {
            if (_damage.Count >= DamageRegion.MaxBoxes)
            {
                _damage.Clear();
                (box, inBufferPixels) = ((0, 0, int.MaxValue, int.MaxValue), true);
            }
            _damage.Add((box, inBufferPixels));
        }

        public List<((int X, int Y, int W, int H) Box, bool InBufferPixels)> TakeDamage()
        {
            var all = _damage.ToList();
            _damage.Clear();
            return all;
        }
    }
}
