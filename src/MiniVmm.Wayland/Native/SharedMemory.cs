using MiniVmm.Memory;

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

    /// <summary>Creates and maps the memfd with <see cref="Memfd"/>; a failure is a <see cref="WaylandException"/> with its errno.</summary>
    public static SharedMemory Create(string name, long size)
    {
        using var memfd = Memfd.TryCreate(name, (ulong)size, out MemfdFailure failure) ?? throw Failed(failure);
        nint pointer = Memfd.TryMapShared(memfd, (ulong)size, allowReadOnly: false, out failure);
        if (pointer == 0)
            throw Failed(failure);
        // Wayland's own Fd type owns the descriptor from here: it is what wl_shm.create_pool sends.
        var fd = new Fd((int)memfd.DangerousGetHandle());
        memfd.SetHandleAsInvalid();
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
            Memfd.Unmap((nint)_pointer, (ulong)Size);
            _pointer = null;
        }
        Fd.Dispose();
    }

    private static WaylandException Failed(MemfdFailure failure) =>
        new($"{failure.Call} failed: {Errno.Describe(failure.Errno)}") { Errno = failure.Errno };
}
