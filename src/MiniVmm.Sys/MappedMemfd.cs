using Microsoft.Win32.SafeHandles;

namespace MiniVmm.Sys;

/// <summary>
/// A memfd mapped MAP_SHARED into this process, owning both: a HOST3D blob's pages (mapped into the guest through a
/// KVM slot and handed to the compositor), a Wayland shm pool, a bench client's pool. The one owner of such a
/// mapping, so the bounds check and the unmap live in one place.
/// </summary>
public sealed unsafe class MappedMemfd : IDisposable
{
    private byte* _pointer;

    private MappedMemfd(SafeFileHandle fd, byte* pointer, ulong size)
    {
        Fd = fd;
        _pointer = pointer;
        Size = size;
    }

    /// <summary>The memfd; owned by this object.</summary>
    public SafeFileHandle Fd { get; }

    public ulong Size { get; }

    /// <summary>A zero-filled memfd of <paramref name="size"/> bytes, mapped; null with a reason.</summary>
    public static MappedMemfd? TryCreate(string name, ulong size, out string? error)
    {
        var mapped = TryCreate(name, size, out MemfdFailure failure);
        error = mapped is null ? failure.ToString() : null;
        return mapped;
    }

    /// <summary>As <see cref="TryCreate(string, ulong, out string?)"/>, with the failed call and errno apart.</summary>
    public static MappedMemfd? TryCreate(string name, ulong size, out MemfdFailure failure)
    {
        var fd = Memfd.TryCreate(name, size, out failure);
        return fd is null ? null : TryMap(fd, size, allowReadOnly: false, out failure);
    }

    /// <summary>
    /// Takes over <paramref name="fd"/> (e.g. a compositor memfd the guest now creates as a HOST3D blob) and maps
    /// <paramref name="size"/> bytes of it. Read-only when the fd refuses a writable shared mapping (sealed keymaps).
    /// Null with a reason; the fd is then closed.
    /// </summary>
    public static MappedMemfd? TryWrap(SafeFileHandle fd, ulong size, out string? error)
    {
        var mapped = TryMap(fd, size, allowReadOnly: true, out MemfdFailure failure);
        error = mapped is null ? failure.ToString() : null;
        return mapped;
    }

    /// <summary>Takes over <paramref name="fd"/> and maps it (read-write, or read-only as allowed); on failure the fd is closed.</summary>
    public static MappedMemfd? TryMap(SafeFileHandle fd, ulong size, bool allowReadOnly, out MemfdFailure failure)
    {
        nint pointer = Memfd.TryMapShared(fd, size, allowReadOnly, out failure);
        if (pointer == 0)
        {
            fd.Dispose();
            return null;
        }
        return new MappedMemfd(fd, (byte*)pointer, size);
    }

    /// <summary>A new close-on-exec descriptor for the memfd (the caller owns it), or null when the fd table is full.</summary>
    public SafeFileHandle? Duplicate()
    {
        int raw = Sys.Fd.DuplicateRaw(Fd);
        return raw < 0 ? null : new SafeFileHandle(raw, ownsHandle: true);
    }

    /// <summary>A window into the pages; throws on a range outside them (callers check guest values first).</summary>
    public Span<byte> GetSpan(ulong offset, int length)
    {
        ObjectDisposedException.ThrowIf(_pointer is null, this);
        if (length < 0 || offset > Size || (ulong)length > Size - offset)
            throw new ArgumentOutOfRangeException(nameof(offset), $"{offset}+{length} is outside a {Size}-byte mapping");
        // SAFETY: the range was checked against the mapping's size above and the mapping is alive.
        return new Span<byte>(_pointer + offset, length);
    }

    public void Dispose()
    {
        if (_pointer is not null)
        {
            // munmap only fails for a bad range, which TryCreate rules out.
            Memfd.Unmap((nint)_pointer, Size);
            _pointer = null;
        }
        Fd.Dispose();
    }
}
