using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace MiniVmm.Wayland;

/// <summary>poll(2) over a socket and a wake-up eventfd: all a dispatch thread needs.</summary>
internal static unsafe class Poller
{
    // <poll.h> values, as constants so callers can combine them.
    public const short In = 0x001;
    public const short Out = 0x004;
    public const short Failed = 0x008 | 0x010 | 0x020; // POLLERR | POLLHUP | POLLNVAL

    /// <summary>Waits for either fd; returns false on timeout. EINTR counts as a spurious wake-up (returns true, no events).</summary>
    public static bool Wait(Fd first, short firstEvents, Fd? second, int timeoutMs, out short firstReady, out short secondReady)
    {
        var fds = stackalloc pollfd[2];
        fds[0] = new pollfd { fd = first.Value, events = firstEvents };
        fds[1] = new pollfd { fd = second?.Value ?? -1, events = In };
        var result = poll(fds, second is null ? 1u : 2u, timeoutMs);
        firstReady = result > 0 ? fds[0].revents : (short)0;
        secondReady = result > 0 && second is not null ? fds[1].revents : (short)0;
        return result != 0;
    }
}

/// <summary>An eventfd another thread signals to wake a poll (new output to flush, or shutdown).</summary>
internal sealed unsafe class WakeEvent : IDisposable
{
    public WakeEvent()
    {
        var fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fd < 0)
            throw new WaylandException("eventfd failed: " + Errno.Describe(Errno.Last)) { Errno = Errno.Last };
        Fd = new Fd(fd);
    }

    public Fd Fd { get; }

    public void Signal()
    {
        ulong one = 1;
        // SAFETY: writes 8 bytes from a local; a full counter (EAGAIN) already means "wake up".
        _ = write(Fd.Value, &one, 8);
    }

    public void Drain()
    {
        ulong value;
        // SAFETY: reads 8 bytes into a local; EAGAIN (nothing pending) is fine.
        _ = read(Fd.Value, &value, 8);
    }

    public void Dispose() => Fd.Dispose();
}
