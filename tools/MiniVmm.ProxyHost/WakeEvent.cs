using MiniVmm.Wayland;
using static Tmds.Linux.LibC;

namespace MiniVmm.ProxyHost;

/// <summary>A waiting thread's eventfd (rented for one wait): written by the interrupt, polled by that thread.</summary>
internal sealed unsafe class WakeEvent : IDisposable
{
    private readonly Fd _fd;

    public WakeEvent()
    {
        var fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fd < 0)
            throw new InvalidOperationException($"eventfd: errno {errno}");
        _fd = new Fd(fd);
    }

    public void Signal()
    {
        ulong one = 1;
        _ = write(_fd.Value, &one, 8); // a full counter (EAGAIN) already means "wake up"
    }

    /// <summary>poll(2) until signalled (then the count is reset) or the timeout; false on timeout.</summary>
    public bool Wait(int timeoutMs)
    {
        var waiter = new Tmds.Linux.pollfd { fd = _fd.Value, events = POLLIN };
        if (poll(&waiter, 1, timeoutMs) <= 0)
            return false;
        ulong value;
        _ = read(_fd.Value, &value, 8); // EAGAIN: another read got it first, which is fine
        return true;
    }

    public void Dispose() => _fd.Dispose();
}
