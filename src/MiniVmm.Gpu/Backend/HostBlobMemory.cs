using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using MiniVmm.Memory;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace MiniVmm.Gpu.Backend;

/// <summary>
/// The host pages of a HOST3D blob: a memfd (so the same pages can be mapped into the guest through a KVM slot
/// and, later, handed to the compositor as a wl_shm pool) mapped MAP_SHARED into this process for the device's
/// own reads and writes. The only unsafe code of the GPU project.
/// </summary>
public sealed unsafe class HostBlobMemory : IDisposable
{
    private byte* _pointer;

    private HostBlobMemory(SafeFileHandle fd, byte* pointer, ulong size)
    {
        Fd = fd;
        _pointer = pointer;
        Size = size;
    }

    /// <summary>The memfd; owned by this object.</summary>
    public SafeFileHandle Fd { get; }

    public ulong Size { get; }

    /// <summary>A zero-filled memfd of <paramref name="size"/> bytes, or null with a reason (the guest then gets OUT_OF_MEMORY).</summary>
    public static HostBlobMemory? TryCreate(string name, ulong size, out string? error)
    {
        var fd = Memfd.TryCreate(name, size, out error);
        return fd is null ? null : TryMap(fd, size, allowReadOnly: false, out error);
    }

    /// <summary>
    /// Takes over <paramref name="fd"/> (a compositor memfd the guest now creates as a HOST3D blob) and maps
    /// <paramref name="size"/> bytes of it. Read-only when the fd refuses a writable shared mapping (sealed keymaps);
    /// the device only reads host blobs. Null with a reason; the fd is then closed.
    /// </summary>
    public static HostBlobMemory? TryWrap(SafeFileHandle fd, ulong size, out string? error) =>
        TryMap(fd, size, allowReadOnly: true, out error);

    private static HostBlobMemory? TryMap(SafeFileHandle fd, ulong size, bool allowReadOnly, out string? error)
    {
        nint pointer = Memfd.TryMapShared(fd, size, allowReadOnly, out error);
        if (pointer == 0)
        {
            fd.Dispose();
            return null;
        }
        return new HostBlobMemory(fd, (byte*)pointer, size);
    }

    /// <summary>A new close-on-exec descriptor for the memfd (the caller owns it), or null when the fd table is full.</summary>
    public SafeFileHandle? Duplicate()
    {
        int raw = fcntl((int)Fd.DangerousGetHandle(), F_DUPFD_CLOEXEC, 0);
        return raw < 0 ? null : new SafeFileHandle(raw, ownsHandle: true);
    }

    /// <summary>A window into the pages; throws on a range outside them (callers check guest values first).</summary>
    public Span<byte> GetSpan(ulong offset, int length)
    {
        ObjectDisposedException.ThrowIf(_pointer is null, this);
        if (length < 0 || offset > Size || (ulong)length > Size - offset)
            throw new ArgumentOutOfRangeException(nameof(offset), $"{offset}+{length} is outside a {Size}-byte blob");
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
