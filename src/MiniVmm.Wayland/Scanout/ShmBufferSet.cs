using MiniVmm.Sys;
using MiniVmm.Wayland.Protocol;

namespace MiniVmm.Wayland;

/// <summary>
/// Two XRGB8888 wl_buffers in one memfd-backed wl_shm_pool. A buffer is busy from its commit until the compositor's
/// wl_buffer.release; <see cref="ShmBuffer.Stale"/> is the area that changed since the buffer was last drawn,
/// which must be refreshed before it is shown again.
/// </summary>
internal sealed class ShmBufferSet : IDisposable
{
    public const int Count = 2;

    private readonly SharedMemory _memory;
    private readonly uint _pool;

    private ShmBufferSet(SharedMemory memory, uint pool, ShmBuffer[] buffers, int width, int height)
    {
        _memory = memory;
        _pool = pool;
        Buffers = buffers;
        Width = width;
        Height = height;
    }

    public int Width { get; }
    public int Height { get; }
    public int Stride => Width * 4;
    public ShmBuffer[] Buffers { get; }

    public static ShmBufferSet Create(WaylandConnection connection, uint shm, int width, int height, MessageDispatcher bufferEvents)
    {
        var bufferSize = (long)width * height * 4;
        var memory = SharedMemory.Create("minivmm-scanout", bufferSize * Count);
        var pool = connection.Create(WlShmPool.Info, null);
        WlShm.CreatePool(connection.Writer, shm, pool, memory.Fd, (int)(bufferSize * Count));
        var buffers = new ShmBuffer[Count];
        for (var i = 0; i < Count; i++)
        {
            var id = connection.Create(WlBuffer.Info, bufferEvents);
            WlShmPool.CreateBuffer(connection.Writer, pool, id, (int)(bufferSize * i), width, height, width * 4, WlShm.Format.Xrgb8888);
            buffers[i] = new ShmBuffer(id, bufferSize * i) { Stale = new PixelRect(0, 0, width, height) };
        }
        return new ShmBufferSet(memory, pool, buffers, width, height);
    }

    public ShmBuffer? FindFree() => Array.Find(Buffers, b => !b.Busy);

    public ShmBuffer? Find(uint id) => Array.Find(Buffers, b => b.Id == id);

    public Span<byte> GetPixels(ShmBuffer buffer) => _memory.GetSpan(buffer.Offset, Stride * Height);

    /// <summary>After <paramref name="shown"/> is committed with <paramref name="damage"/>, the others lag by that much.</summary>
    public void MarkShown(ShmBuffer shown, PixelRect damage)
    {
        foreach (var buffer in Buffers)
        {
            if (buffer == shown)
            {
                buffer.Busy = true;
                buffer.Stale = PixelRect.Empty;
            }
            else
            {
                buffer.Stale = buffer.Stale.Union(damage);
            }
        }
    }

    /// <summary>Destroys the protocol objects (the compositor may keep showing the last frame until the next commit).</summary>
    public void Destroy(WaylandConnection connection)
    {
        if (!connection.IsClosed)
        {
            foreach (var buffer in Buffers)
            {
                WlBuffer.Destroy(connection.Writer, buffer.Id);
                connection.Forget(buffer.Id);
            }
            WlShmPool.Destroy(connection.Writer, _pool);
            connection.Forget(_pool);
        }
        Dispose();
    }

    public void Dispose() => _memory.Dispose();
}

internal sealed class ShmBuffer(uint id, long offset)
{
    public uint Id { get; } = id;
    public long Offset { get; } = offset;
    public bool Busy { get; set; }
    public PixelRect Stale { get; set; }
}
