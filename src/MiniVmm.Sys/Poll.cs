using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace MiniVmm.Sys;

/// <summary>
/// Readiness bits, shared by poll(2) and epoll(7) (the kernel gives both the same values), and bounded poll(2)
/// waits on one or two fds: for threads that block on a socket or pipe and a wake-up <see cref="EventFd"/>. A
/// device serving many fds uses the <see cref="EventLoop"/> instead.
/// </summary>
public static unsafe class Poll
{
    public const short In = 0x001;
    public const short Out = 0x004;
    public const short Error = 0x008;
    public const short HangUp = 0x010;
    /// <summary>POLLERR | POLLHUP | POLLNVAL: the fd failed, a read or write will say how.</summary>
    public const short Failed = Error | HangUp | 0x020;
    /// <summary>EPOLLET, for <see cref="EventLoop.Add"/> only.</summary>
    public const int EdgeTriggered = 1 << 31;

    /// <summary>
    /// poll(2) on <paramref name="first"/> and <paramref name="second"/> (a negative fd is ignored, as poll ignores it):
    /// the count of ready fds, 0 on timeout (-1 ms: none), or -1 with errno (EINTR not retried).
    /// </summary>
    public static int Wait(int first, short firstEvents, int second, short secondEvents, int timeoutMs, out short firstReady, out short secondReady)
    {
        var fds = stackalloc pollfd[2];
        fds[0] = new pollfd { fd = first, events = firstEvents };
        fds[1] = new pollfd { fd = second, events = secondEvents };
        // SAFETY: fds points at two initialised pollfd entries on this stack frame.
        var result = poll(fds, 2, timeoutMs);
        firstReady = result > 0 ? fds[0].revents : (short)0;
        secondReady = result > 0 ? fds[1].revents : (short)0;
        return result;
    }

    /// <summary>
    /// Waits for <paramref name="first"/> or a signalled <paramref name="wake"/>; false on timeout. EINTR counts as a
    /// spurious wake-up (true, no events).
    /// </summary>
    public static bool Wait(Fd first, short firstEvents, Fd? wake, int timeoutMs, out short firstReady, out short wakeReady) =>
        Wait(first.Value, firstEvents, wake?.Value ?? -1, In, timeoutMs, out firstReady, out wakeReady) != 0;

    /// <summary>One fd: the count of ready fds (0 or 1), or -1 with errno (EINTR not retried).</summary>
    public static int Wait(int fd, short events, int timeoutMs) => Wait(fd, events, -1, 0, timeoutMs, out _, out _);

    /// <summary>Waits (bounded) until <paramref name="fd"/> is readable or failed; false on timeout or EINTR.</summary>
    public static bool WaitReadable(Fd fd, int timeoutMs) => Wait(fd.Value, In, timeoutMs) > 0;

    /// <summary>Waits for room, retrying EINTR; false on timeout. Hang-ups count as ready, so the following write reports them.</summary>
    public static bool WaitWritable(int fd, int timeoutMs)
    {
        int result;
        while ((result = Wait(fd, Out, timeoutMs)) < 0 && Errno.Last == EINTR)
        {
        }
        return result > 0;
    }
}
