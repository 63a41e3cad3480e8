using MiniVmm.Sys;

namespace MiniVmm.GuestProxy.Drm;

/// <summary>The DRM device file through the guest kernel's system calls.</summary>
internal sealed unsafe class LinuxDrmFile : IDrmFile
{
    private Fd _fd = NotOpen();

    public int Open(string path)
    {
        var opened = Fd.TryOpen(path, out var errno);
        if (opened is null)
            return -errno;
        _fd.Dispose();
        _fd = opened;
        return 0;
    }

    public int Ioctl(ulong request, void* argument) => _fd.Ioctl(request, argument);

    public void* Map(ulong offset, ulong length, out int error)
    {
        var mapping = MemoryMap.TryMapShared(_fd, length, writable: true, out var errno, (long)offset);
        error = mapping == 0 ? -errno : 0;
        return (void*)mapping;
    }

    public void Unmap(void* address, ulong length) => MemoryMap.Unmap((nint)address, length); // nothing to do about a failure

    public int WaitForEvent(int timeoutMs)
    {
        var ready = Poll.Wait(_fd.Value, Poll.In, timeoutMs);
        return ready < 0 ? -Errno.Last : ready;
    }

    public long Read(byte* buffer, int length) => _fd.Read(new Span<byte>(buffer, length), out var errno) is var count && count < 0 ? -errno : count;

    public void Dispose()
    {
        _fd.Dispose();
        _fd = NotOpen();
    }

    /// <summary>Fd -1, which every call refuses with EBADF, as the kernel would for a file never opened.</summary>
    private static Fd NotOpen() => new(-1, ownsHandle: false);
}
