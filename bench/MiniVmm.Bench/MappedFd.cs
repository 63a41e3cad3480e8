using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using MiniVmm.Memory;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace MiniVmm.Bench;

/// <summary>A memfd (or another process's fd) mapped MAP_SHARED into the bench: a native client's wl_shm pool, or
/// the guest's view of a HOST3D blob that the device mapped into the host-visible region.</summary>
internal sealed unsafe class MappedFd : IDisposable
{
    private byte* _pointer;

    private MappedFd(SafeFileHandle fd, byte* pointer, ulong size)
    {
        Fd = fd;
        _pointer = pointer;
        Size = size;
    }

    public SafeFileHandle Fd { get; }
    public ulong Size { get; }

    public static MappedFd CreateMemfd(string name, ulong size) =>
        Map(Memfd.TryCreate(name, size, out string? error) ?? throw new InvalidOperationException(error), size);

    /// <summary>Maps <paramref name="fd"/> (not taken over: a dup is made) shared, read-write.</summary>
    public static MappedFd MapDup(SafeHandle fd, ulong size)
    {
        int raw = dup((int)fd.DangerousGetHandle());
        if (raw < 0)
            throw new InvalidOperationException($"dup failed (errno {errno})");
        return Map(new SafeFileHandle(raw, ownsHandle: true), size);
    }

    private static MappedFd Map(SafeFileHandle fd, ulong size)
    {
        nint pointer = Memfd.TryMapShared(fd, size, allowReadOnly: false, out string? error);
        if (pointer == 0)
        {
            fd.Dispose();
            throw new InvalidOperationException(error);
        }
        return new MappedFd(fd, (byte*)pointer, size);
    }

    public Span<byte> GetSpan(ulong offset, int length)
    {
        if (_pointer == null || offset + (ulong)length > Size)
            throw new ArgumentOutOfRangeException(nameof(offset));
        return new Span<byte>(_pointer + offset, length);
    }

    public void Dispose()
    {
        if (_pointer != null)
        {
            Memfd.Unmap((nint)_pointer, Size);
            _pointer = null;
        }
        Fd.Dispose();
    }
}
