using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace MiniVmm.GuestProxy.Drm;

/// <summary>The DRM device file through the guest kernel's system calls.</summary>
internal sealed unsafe class LinuxDrmFile : IDrmFile
{
    private int _fd = -1;

    public int Open(string path)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
            _fd = open(p, O_RDWR | O_CLOEXEC);
        return _fd < 0 ? -errno : 0;
    }

    public int Ioctl(ulong request, void* argument)
    {
        int result;
        do
            result = ioctl(_fd, (int)request, argument);
        while (result < 0 && errno == EINTR);
        return result < 0 ? -errno : result;
    }

    public void* Map(ulong offset, ulong length, out int error)
    {
        var mapping = mmap(null, (size_t)length, PROT_READ | PROT_WRITE, MAP_SHARED, _fd, (long)offset);
        error = mapping == (void*)-1 ? -errno : 0;
        return error == 0 ? mapping : null;
    }

    public void Unmap(void* address, ulong length) => _ = munmap(address, (size_t)length); // nothing to do about a failure

    public int WaitForEvent(int timeoutMs)
    {
        var waiter = new pollfd { fd = _fd, events = POLLIN };
        var ready = poll(&waiter, 1, timeoutMs);
        return ready < 0 ? -errno : ready;
    }

    public long Read(byte* buffer, int length)
    {
        var count = (long)read(_fd, buffer, length);
        return count < 0 ? -errno : count;
    }

    public void Dispose()
    {
        if (_fd >= 0)
            _ = close(_fd);
        _fd = -1;
    }
}
