using MiniVmm.Sys;

namespace MiniVmm.Wayland;

/// <summary>
/// The backing of a wl_shm pool: a <see cref="MappedMemfd"/>, with its descriptor as Wayland's <see cref="Sys.Fd"/>
/// for wl_shm.create_pool. Failures are <see cref="WaylandException"/>s with their errno.
/// </summary>
internal sealed class SharedMemory : IDisposable
{
    private readonly MappedMemfd _mapped;

    private SharedMemory(MappedMemfd mapped)
    {
        _mapped = mapped;
        // A view, not an owner: the mapping's handle closes the descriptor, once.
        Fd = new Fd((int)mapped.Fd.DangerousGetHandle(), ownsHandle: false);
    }

    public Fd Fd { get; }

    public long Size => (long)_mapped.Size;

    public static SharedMemory Create(string name, long size) =>
        new(MappedMemfd.TryCreate(name, (ulong)size, out MemfdFailure failure) ?? throw Failed(failure));

    /// <summary>A window into the mapping; callers keep offset + length within <see cref="Size"/>.</summary>
    public Span<byte> GetSpan(long offset, int length)
    {
        if (offset < 0)
            ThrowHelper.ArgumentOutOfRange(nameof(offset));
        return _mapped.GetSpan((ulong)offset, length);
    }

    public void Dispose()
    {
        Fd.Dispose();
        _mapped.Dispose();
    }

    private static WaylandException Failed(MemfdFailure failure) =>
        new($"{failure.Call} failed: {Errno.Describe(failure.Errno)}") { Errno = failure.Errno };
}
