using System.Buffers.Binary;
using System.Diagnostics;
using MiniVmm.Wayland.Protocol;

namespace MiniVmm.Wayland;

/// <summary>
/// Frames: copy into a free buffer and commit, or — before the first configure, or while both buffers are busy —
/// into a shadow image that is committed as soon as a buffer comes back, so the latest frame is never lost.
/// </summary>
public sealed partial class ScanoutWindow
{
    /// <summary>Two buffers of this size must fit wl_shm_pool's int32 size.</summary>
    public const int MaxDimension = 8192;

    private ShmBufferSet? _buffers;
    private bool _configured;
    private bool _hasContent;
    // The latest frame as XRGB8888, valid only while _pendingDamage is not empty.
    private byte[] _shadow = [];
    private PixelRect _pendingDamage;
    // Size and states from the last xdg_toplevel.configure, applied at the next xdg_surface.configure.
    private (int Width, int Height, bool Constrained) _nextConfigure;
    private (int Width, int Height, bool Constrained) _configure;
    private PixelRect _geometry;

    /// <summary>
    /// Shows a frame. <paramref name="pixels"/> holds the whole scanout (rows <paramref name="strideBytes"/> apart);
    /// only <paramref name="damage"/> changed since the previous frame. A new size resizes the window.
    /// Returns false (and does nothing) once the window is no longer running.
    /// </summary>
    /// <exception cref="ArgumentException">The sizes do not describe <paramref name="pixels"/>: a caller bug.</exception>
    public bool Present(ReadOnlySpan<byte> pixels, int width, int height, int strideBytes, PixelFormat format, PixelRect damage)
    {
        ValidateFrame(pixels.Length, width, height, strideBytes);
        var started = Stopwatch.GetTimestamp();
        lock (_lock)
        {
            if (_state != ScanoutWindowState.Running)
                return false;
            var full = new PixelRect(0, 0, width, height);
            if (_buffers is null || _buffers.Width != width || _buffers.Height != height)
            {
                Resize(width, height);
                damage = full;
            }
            damage = damage.Intersect(full);
            if (damage.IsEmpty)
                return true;
            var buffer = _configured ? _buffers!.FindFree() : null;
            if (buffer is null)
            {
                StashLocked(pixels, strideBytes, format, damage);
                return true;
            }
            // The caller's frame is complete, so it can also refresh what a pending shadow frame would have shown.
            damage = damage.Union(_pendingDamage);
            _pendingDamage = PixelRect.Empty;
            var target = _buffers!.GetPixels(buffer);
            PixelConverter.ConvertRect(pixels, strideBytes, target, _buffers.Stride, damage.Union(buffer.Stale), format);
            CommitLocked(buffer, damage);
            LastPresentTicks = Stopwatch.GetTimestamp() - started;
        }
        NotifyStateChange();
        return true;
    }

    private static void ValidateFrame(int length, int width, int height, int strideBytes)
    {
        if (width <= 0 || height <= 0 || width > MaxDimension || height > MaxDimension)
            ThrowHelper.Argument($"scanout size {width}x{height} is outside 1..{MaxDimension}", nameof(width));
        if (strideBytes < width * 4)
            ThrowHelper.Argument($"stride {strideBytes} is below width × 4 = {width * 4}", nameof(strideBytes));
        if ((long)(height - 1) * strideBytes + width * 4 > length)
            ThrowHelper.Argument($"{length} bytes cannot hold {width}x{height} pixels at stride {strideBytes}", nameof(length));
    }

    private void Resize(int width, int height)
    {
        _buffers?.Destroy(_connection);
        _buffers = ShmBufferSet.Create(_connection, _shm, width, height, WlBuffer.EventDispatcher(_listener));
        _pendingDamage = PixelRect.Empty;
        if (_shadow.Length != width * height * 4)
            _shadow = new byte[width * height * 4];
    }

    /// <summary>Keeps the frame for later; the first stash copies everything so the shadow is a whole frame.</summary>
    private void StashLocked(ReadOnlySpan<byte> pixels, int strideBytes, PixelFormat format, PixelRect damage)
    {
        var region = _pendingDamage.IsEmpty ? new PixelRect(0, 0, _buffers!.Width, _buffers.Height) : damage;
        PixelConverter.ConvertRect(pixels, strideBytes, _shadow, _buffers!.Stride, region, format);
        _pendingDamage = _pendingDamage.Union(damage);
    }

    /// <summary>Commits the shadow frame if there is one and a buffer to put it in.</summary>
    private void CommitPendingLocked()
    {
        if (_pendingDamage.IsEmpty || !_configured || _buffers?.FindFree() is not { } buffer)
            return;
        var region = _pendingDamage.Union(buffer.Stale);
        PixelConverter.ConvertRect(_shadow, _buffers.Stride, _buffers.GetPixels(buffer), _buffers.Stride, region, PixelFormat.Bgrx);
        var damage = _pendingDamage;
        _pendingDamage = PixelRect.Empty;
        CommitLocked(buffer, damage);
    }

    private void CommitLocked(ShmBuffer buffer, PixelRect damage)
    {
        var writer = _connection.Writer;
        UpdateGeometryLocked();
        WlSurface.Attach(writer, _surface, buffer.Id, 0, 0);
        WlSurface.DamageBuffer(writer, _surface, damage.X, damage.Y, damage.Width, damage.Height);
        WlSurface.Commit(writer, _surface);
        _buffers!.MarkShown(buffer, damage);
        _hasContent = true;
        FlushLocked();
    }

    /// <summary>
    /// A fullscreen or maximized toplevel must not be larger than configured (weston's kiosk shell enforces it with
    /// a protocol error), so the window geometry is clipped to the configured size; otherwise it is the buffer.
    /// </summary>
    private void UpdateGeometryLocked()
    {
        var geometry = new PixelRect(0, 0, _buffers!.Width, _buffers.Height);
        if (_configure.Constrained && _configure.Width > 0 && _configure.Height > 0)
            geometry = geometry.Intersect(new PixelRect(0, 0, _configure.Width, _configure.Height));
        if (geometry == _geometry)
            return;
        _geometry = geometry;
        XdgSurface.SetWindowGeometry(_connection.Writer, _xdgSurface, geometry.X, geometry.Y, geometry.Width, geometry.Height);
    }

    private void FlushLocked()
    {
        // A full socket is finished by the dispatch thread (or the owner's loop) when POLLOUT comes.
        if (_connection.Flush() == IoStatus.WouldBlock)
            _wake.Wake();
        CheckConnectionLocked();
    }

    private void OnToplevelConfigure(int width, int height, ReadOnlySpan<byte> states)
    {
        var constrained = false;
        for (var i = 0; i + 4 <= states.Length; i += 4)
        {
            var state = (XdgToplevel.State)BinaryPrimitives.ReadUInt32LittleEndian(states[i..]);
            constrained |= state is XdgToplevel.State.Fullscreen or XdgToplevel.State.Maximized;
        }
        _nextConfigure = (width, height, constrained);
    }

    private void OnSurfaceConfigure(uint serial)
    {
        XdgSurface.AckConfigure(_connection.Writer, _xdgSurface, serial);
        _configure = _nextConfigure;
        _configured = true;
        if (!_pendingDamage.IsEmpty)
        {
            CommitPendingLocked();
        }
        else if (_hasContent && _buffers is not null)
        {
            // Re-commit so a changed geometry takes effect with this configure.
            UpdateGeometryLocked();
            WlSurface.Commit(_connection.Writer, _surface);
        }
    }

    private void OnBufferRelease(uint id)
    {
        if (_buffers?.Find(id) is { } buffer)
        {
            buffer.Busy = false;
            CommitPendingLocked();
        }
    }
}
