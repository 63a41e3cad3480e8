using MiniVmm.CrossDomain;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace MiniVmm.GuestProxy.Shm;

/// <summary>
/// The host copy of one client wl_buffer: a HOST3D blob laid out as the host's GET_IMAGE_REQUIREMENTS said (its own
/// stride and offset), mapped here, and the rectangles of it that are older than the client's buffer
/// (<see cref="Stale"/>: everything at first). A commit copies exactly those from the client's pool file and forgets
/// them. The client's pool can be any size: only the buffer's own bytes ever reach the host.
/// </summary>
internal sealed unsafe class HostBuffer
{
    private readonly SharedFd _client;
    private readonly long _clientOffset;
    private readonly int _clientStride, _bytesPerPixel;
    private readonly ImageRequirements _layout;
    private byte* _mapping;

    private HostBuffer(SharedFd client, ShmBufferShape shape, int bytesPerPixel, ImageRequirements layout, HostBlob blob, byte* mapping)
    {
        _client = client;
        _clientOffset = shape.Offset;
        _clientStride = shape.Stride;
        _bytesPerPixel = bytesPerPixel;
        _layout = layout;
        Blob = blob;
        Width = shape.Width;
        Height = shape.Height;
        _mapping = mapping;
        client.AddReference();
        Stale.Add(new PixelBox(0, 0, Width, Height));
    }

    public HostBlob Blob { get; }
    public int Width { get; }
    public int Height { get; }

    /// <summary>What the host copy lacks of the client's buffer.</summary>
    public DamageRegion Stale { get; } = new();

    /// <summary>Maps <paramref name="blob"/> for a buffer of <paramref name="shape"/>; null with the reason when its layout cannot hold it.</summary>
    public static HostBuffer? Create(SharedFd client, ShmBufferShape shape, int bytesPerPixel, ImageRequirements layout, HostBlob blob, out string? error)
    {
        error = null;
        var rowBytes = (long)shape.Width * bytesPerPixel;
        if (layout.Stride < rowBytes || layout.Offset + (long)layout.Stride * (shape.Height - 1) + rowBytes > (long)blob.Size)
        {
            error = $"the host's layout (stride {layout.Stride}, offset {layout.Offset}, {blob.Size} bytes) cannot hold {shape.Width}x{shape.Height}";
            return null;
        }
        var mapping = mmap(null, (size_t)blob.Size, PROT_READ | PROT_WRITE, MAP_SHARED, blob.Fd.Value, 0);
        if (mapping != (void*)-1)
            return new HostBuffer(client, shape, bytesPerPixel, layout, blob, (byte*)mapping);
        error = $"mmap of a {blob.Size}-byte host blob failed: errno {errno}";
        return null;
    }

    /// <summary>
    /// Copies the stale rectangles from the client's pool file and forgets them; the bytes copied, or -1 with the
    /// reason. pread rather than an mmap of the client's fd: a client that truncates its file then gives a short read
    /// here, where a mapping would SIGBUS the whole proxy. Whole-width rectangles with equal strides go in one pread.
    /// </summary>
    public long Refresh(out string? error)
    {
        error = null;
        long copied = 0;
        foreach (var box in Stale.Boxes)
        {
            var rowBytes = box.Width * _bytesPerPixel;
            var column = (long)box.X * _bytesPerPixel;
            var oneBlock = box.Width == Width && _clientStride == _layout.Stride;
            for (var row = box.Y; row < box.Y + box.Height; row++)
            {
                var rows = oneBlock ? box.Y + box.Height - row : 1;
                var length = (long)_clientStride * (rows - 1) + rowBytes;
                if (!Read(_mapping + _layout.Offset + (long)row * _layout.Stride + column, length, _clientOffset + (long)row * _clientStride + column, out error))
                    return -1;
                copied += length;
                row += rows - 1;
            }
        }
        Stale.Clear();
        return copied;
    }

    /// <summary>wl_buffer.destroy (or the client going): unmaps and closes; the caller frees <see cref="Blob"/>.</summary>
    public void Release()
    {
        if (_mapping == null)
            return;
        _ = munmap(_mapping, (size_t)Blob.Size); // nothing useful to do about a failed munmap
        _mapping = null;
        Blob.Fd.Dispose();
        _client.Release();
    }

    private bool Read(byte* to, long length, long from, out string? error)
    {
        error = null;
        for (var done = 0L; done < length;)
        {
            var read = pread(_client.Fd.Value, to + done, (size_t)(ulong)(length - done), from + done);
            if (read < 0 && errno == EINTR)
                continue;
            if (read <= 0)
            {
                error = read == 0 ? $"the client's pool file ends before byte {from + done}" : $"pread of the client's pool: errno {errno}";
                return false;
            }
            done += read;
        }
        return true;
    }
}

/// <summary>wl_shm_pool.create_buffer's numbers: where the buffer lies in the client's pool, and its size.</summary>
internal readonly record struct ShmBufferShape(int Offset, int Width, int Height, int Stride);
