using MiniVmm.Sys;

namespace MiniVmm.GuestProxy.Drm;

/// <summary>The DRM device file through the guest kernel's system calls.</summary>
internal sealed unsafe class LinuxDrmFile : IDrmFile
{
    private Fd? _fd;

    public int Open(string path)
    {
        _fd = Fd.TryOpen(path, out var errno);
        return _fd is null ? -errno : 0;
    }

    public int Ioctl(ulong request, void* argument) => File.Ioctl(request, argument);

    public void* Map(ulong offset, ulong length, out int error)
    {
        var mapping = MemoryMap.TryMapShared(File, length, writable: true, out var errno, (long)offset);
        error = mapping == 0 ? -errno : 0;
        return (void*)mapping;
    }

    public void Unmap(void* address, ulong length) => MemoryMap.Unmap((nint)address, length); // nothing to do about a failure

    public int WaitForEvent(int timeoutMs)
    {
        var ready = Poll.Wait(File.Value, Poll.In, timeoutMs);
        return ready < 0 ? -Errno.Last : ready;
    }

    public long Read(byte* buffer, int length) => File.Read(new Span<byte>(buffer, length), out var errno) is var count && count < 0 ? -errno : count;

    public void Dispose()
    {
        _fd?.Dispose();
        _fd = null;
    }

    private Fd File => _fd ?? throw new InvalidOperationException("the DRM file is not open");
}
