using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace MiniVmm.Wayland;

/// <summary>A memfd mapped read-write and shared: the backing of a wl_shm pool, visible to the compositor by fd.</summary>
internal sealed unsafe class SharedMemory : IDisposable
{
    private byte* _pointer;

    private SharedMemory(Fd fd, byte* pointer, long size)
    {
        Fd = fd;
        _pointer = pointer;
        Size = size;
    }

    public Fd Fd { get; }

    public long Size { get; }

    public static SharedMemory Create(string name, long size)
    {
        var nameBytes = System.Text.Encoding.ASCII.GetBytes(name + "\0");
        int raw;
        fixed (byte* namePointer = nameBytes)
            raw = memfd_create(namePointer, MFD_CLOEXEC);
        if (raw < 0)
            throw new WaylandException("memfd_create failed: " + Errno.Describe(Errno.Last)) { Errno = Errno.Last };
        var fd = new Fd(raw);
        if (ftruncate(raw, size) < 0)
        {
            var errno = Errno.Last;
            fd.Dispose();
            throw new WaylandException($"ftruncate of a {size}-byte memfd failed: {Errno.Describe(errno)}") { Errno = errno };
        }
        var pointer = mmap(null, (size_t)(ulong)size, PROT_READ | PROT_WRITE, MAP_SHARED, raw, 0);
        if (pointer == MAP_FAILED)
        {
            var errno = Errno.Last;
            fd.Dispose();
            throw new WaylandException($"mmap of a {size}-byte memfd failed: {Errno.Describe(errno)}") { Errno = errno };
        }
        return new SharedMemory(fd, (byte*)pointer, size);
    }

    /// <summary>A window into the mapping; callers keep offset + length within <see cref="Size"/>.</summary>
    public Span<byte> GetSpan(long offset, int length)
    {
        if (_pointer is null)
            ThrowHelper.InvalidOperation("the shared memory was unmapped");
        if (offset < 0 || length < 0 || offset > Size - length)
            ThrowHelper.ArgumentOutOfRange(nameof(offset));
        // SAFETY: the range was checked against the mapping's size above and the mapping is alive.
        return new Span<byte>(_pointer + offset, length);
    }

    public void Dispose()
    {
        if (_pointer is not null)
        {
            // munmap only fails for a bad range, which the constructor rules out.
            _ = munmap(_pointer, (size_t)(ulong)Size);
            _pointer = null;
        }
        Fd.Dispose();
    }
}
