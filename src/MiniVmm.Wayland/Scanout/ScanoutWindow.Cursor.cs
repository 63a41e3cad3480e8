using MiniVmm.Sys;
using MiniVmm.Wayland.Protocol;

namespace MiniVmm.Wayland;

/// <summary>
/// The guest's cursor plane, drawn as a wl_subsurface above the scanout (the host pointer is the host's own; this
/// only shows where the guest thinks its cursor is). Each image gets its own small buffer, freed when the compositor
/// releases it; a move is a wl_subsurface.set_position, which takes effect with the next commit of the scanout
/// surface, so a move commits that surface without a new buffer.
/// </summary>
/// <remarks>Without wl_subcompositor (every desktop compositor has it) the cursor is silently not drawn.</remarks>
public sealed partial class ScanoutWindow
{
    /// <summary>The largest cursor image accepted: virtio-gpu cursors are 64x64; this leaves room for HiDPI guests.</summary>
    public const int MaxCursorDimension = 256;

    private uint _subcompositor;
    private uint _cursorSurface;
    private uint _cursorSubsurface;
    private uint _cursorBuffer; // the attached one, 0 while hidden
    private bool _cursorBufferReleased; // the compositor released the attached one early (it copied it)
    private (int X, int Y) _cursorPosition;
    // Every cursor buffer the compositor may still read: the attached one and replaced ones awaiting release.
    private readonly Dictionary<uint, SharedMemory> _cursorBuffers = [];

    /// <summary>True once a cursor image is shown (for tests and diagnostics).</summary>
    public bool CursorVisible
    {
        get
        {
            lock (_lock)
                return _cursorBuffer != 0;
        }
    }

    /// <summary>Cursor buffers (each with its memfd) not yet freed: the shown one and replaced ones awaiting release.</summary>
    internal int CursorBufferCount
    {
        get
        {
            lock (_lock)
                return _cursorBuffers.Count;
        }
    }

    /// <summary>
    /// Shows <paramref name="argb"/> (premultiplied ARGB8888, tightly packed, as virtio-gpu cursors are) with its
    /// top-left corner at (<paramref name="x"/>, <paramref name="y"/>) of the scanout. False when the window no
    /// longer runs or the compositor cannot draw it.
    /// </summary>
    /// <exception cref="ArgumentException">The sizes do not describe <paramref name="argb"/>: a caller bug.</exception>
    public bool ShowCursor(ReadOnlySpan<byte> argb, int width, int height, int x, int y)
    {
        if (width <= 0 || height <= 0 || width > MaxCursorDimension || height > MaxCursorDimension)
            ThrowHelper.Argument($"cursor size {width}x{height} is outside 1..{MaxCursorDimension}", nameof(width));
        if (argb.Length < width * height * 4)
            ThrowHelper.Argument($"{argb.Length} bytes cannot hold a {width}x{height} cursor", nameof(argb));
        lock (_lock)
        {
            if (_state != ScanoutWindowState.Running || !EnsureCursorSurfaceLocked())
                return false;
            var buffer = CreateCursorBufferLocked(argb[..(width * height * 4)], width, height);
            var writer = _connection.Writer;
            WlSurface.Attach(writer, _cursorSurface, buffer, 0, 0);
            WlSurface.DamageBuffer(writer, _cursorSurface, 0, 0, width, height);
            WlSurface.Commit(writer, _cursorSurface);
            ReplaceCursorBufferLocked(buffer);
            SetCursorPositionLocked(x, y, force: true);
        }
        NotifyStateChange();
        return true;
    }

    /// <summary>Moves the shown cursor (or the place a later one appears). False once the window no longer runs.</summary>
    public bool MoveCursor(int x, int y)
    {
        lock (_lock)
        {
            if (_state != ScanoutWindowState.Running)
                return false;
            if (_cursorSubsurface != 0)
                SetCursorPositionLocked(x, y, force: false);
            else
                _cursorPosition = (x, y);
        }
        NotifyStateChange();
        return true;
    }

    /// <summary>Hides the cursor (the guest sent UPDATE_CURSOR with resource 0 or disabled its scanout).</summary>
    public bool HideCursor()
    {
        lock (_lock)
        {
            if (_state != ScanoutWindowState.Running)
                return false;
            if (_cursorBuffer != 0)
            {
                WlSurface.Attach(_connection.Writer, _cursorSurface, 0, 0, 0);
                WlSurface.Commit(_connection.Writer, _cursorSurface);
                ReplaceCursorBufferLocked(0);
                FlushLocked();
            }
        }
        NotifyStateChange();
        return true;
    }

    private bool EnsureCursorSurfaceLocked()
    {
        if (_cursorSubsurface != 0)
            return true;
        if (_subcompositor == 0)
            return false;
        var writer = _connection.Writer;
        _cursorSurface = _connection.Create(WlSurface.Info, null);
        WlCompositor.CreateSurface(writer, _compositor, _cursorSurface);
        _cursorSubsurface = _connection.Create(WlSubsurface.Info, null);
        WlSubcompositor.GetSubsurface(writer, _subcompositor, _cursorSubsurface, _cursorSurface, _surface);
        // Desynchronized: a new image shows at once instead of waiting for the next guest frame.
        WlSubsurface.SetDesync(writer, _cursorSubsurface);
        return true;
    }

    private uint CreateCursorBufferLocked(ReadOnlySpan<byte> argb, int width, int height)
    {
        var memory = SharedMemory.Create("minivmm-cursor", argb.Length);
        argb.CopyTo(memory.GetSpan(0, argb.Length));
        var writer = _connection.Writer;
        var pool = _connection.Create(WlShmPool.Info, null);
        WlShm.CreatePool(writer, _shm, pool, memory.Fd, argb.Length);
        var buffer = _connection.Create(WlBuffer.Info, WlBuffer.EventDispatcher(_listener));
        WlShmPool.CreateBuffer(writer, pool, buffer, 0, width, height, width * 4, WlShm.Format.Argb8888);
        // The buffer keeps the compositor's pool alive; the pool object itself is no longer needed.
        WlShmPool.Destroy(writer, pool);
        _connection.Forget(pool);
        _cursorBuffers[buffer] = memory;
        return buffer;
    }

    private void SetCursorPositionLocked(int x, int y, bool force)
    {
        if (!force && _cursorPosition == (x, y))
            return;
        _cursorPosition = (x, y);
        WlSubsurface.SetPosition(_connection.Writer, _cursorSubsurface, x, y);
        // The position is state of the parent: it applies with the scanout surface's next commit.
        WlSurface.Commit(_connection.Writer, _surface);
        FlushLocked();
    }

    /// <summary>The old buffer goes now if the compositor already released it, else at its release.</summary>
    private void ReplaceCursorBufferLocked(uint buffer)
    {
        if (_cursorBufferReleased && _cursorBuffers.TryGetValue(_cursorBuffer, out var old))
            DestroyCursorBufferLocked(_cursorBuffer, old);
        _cursorBuffer = buffer;
        _cursorBufferReleased = false;
    }

    /// <summary>wl_buffer.release for a cursor buffer: a replaced one is destroyed; true when it was a cursor buffer.</summary>
    private bool OnCursorBufferRelease(uint id)
    {
        if (!_cursorBuffers.TryGetValue(id, out var memory))
            return false;
        if (id == _cursorBuffer)
            _cursorBufferReleased = true; // still shown: the compositor kept a copy
        else
            DestroyCursorBufferLocked(id, memory);
        return true;
    }

    private void DestroyCursorBufferLocked(uint id, SharedMemory memory)
    {
        if (!_connection.IsClosed)
            WlBuffer.Destroy(_connection.Writer, id);
        _connection.Forget(id);
        _cursorBuffers.Remove(id);
        memory.Dispose();
    }

    /// <summary>On teardown (and again on dispose, harmlessly): destroys the cursor surface and every cursor buffer.</summary>
    private void DestroyCursorLocked()
    {
        if (_cursorSubsurface != 0 && !_connection.IsClosed)
        {
            WlSubsurface.Destroy(_connection.Writer, _cursorSubsurface);
            WlSurface.Destroy(_connection.Writer, _cursorSurface);
        }
        _cursorSubsurface = _cursorSurface = _cursorBuffer = 0;
        _cursorBufferReleased = false;
        foreach (var (id, memory) in _cursorBuffers.ToArray())
            DestroyCursorBufferLocked(id, memory);
    }
}
