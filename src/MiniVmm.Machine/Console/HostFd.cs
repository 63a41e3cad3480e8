using Tmds.Linux;

namespace MiniVmm.Machine.Console;

/// <summary>The libc calls of the host console (isatty, poll, read, termios): its only unsafe code.</summary>
internal static unsafe class HostFd
{
    public enum WaitResult
    {
        /// <summary>The input fd has data, end of file or an error: a read will say which.</summary>
        Readable,
        /// <summary>The wake fd was signalled: the owner is shutting down.</summary>
        Woken,
        TimedOut,
    }

    public static bool IsTerminal(int fd) => LibC.isatty(fd) == 1;

    /// <summary>
    /// Waits for <paramref name="fd"/> (ignored when negative, as poll(2) ignores it) to become readable,
    /// for <paramref name="wakeFd"/> to be signalled, or for <paramref name="timeoutMs"/> (-1: forever).
    /// </summary>
    public static WaitResult WaitReadable(int fd, int wakeFd, int timeoutMs)
    {
        pollfd* fds = stackalloc pollfd[2];
        fds[0].fd = fd;
        fds[0].events = LibC.POLLIN;
        fds[0].revents = 0;
        fds[1].fd = wakeFd;
        fds[1].events = LibC.POLLIN;
        fds[1].revents = 0;
        // SAFETY: fds points at two initialised pollfd entries on this stack frame.
        int ready = LibC.poll(fds, 2, timeoutMs);
        if (ready < 0)
            return LibC.errno == LibC.EINTR ? WaitResult.TimedOut : WaitResult.Readable; // a read reports the error
        if (fds[1].revents != 0)
            return WaitResult.Woken;
        return fds[0].revents != 0 ? WaitResult.Readable : WaitResult.TimedOut;
    }

    /// <summary>
    /// Reads what is available. Returns false at end of file or on an error; true with a count, which is
    /// 0 when a non-blocking fd had nothing after all.
    /// </summary>
    public static bool TryRead(int fd, Span<byte> buffer, out int count)
    {
        fixed (byte* data = buffer)
        {
            while (true)
            {
                // SAFETY: data is pinned and valid for buffer.Length bytes.
                long result = LibC.read(fd, data, buffer.Length);
                if (result > 0)
                {
                    count = (int)result;
                    return true;
                }
                count = 0;
                if (result == 0)
                    return false;
                int errno = LibC.errno;
                if (errno == LibC.EINTR)
                    continue;
                return errno == LibC.EAGAIN;
            }
        }
    }

    public static bool TryGetAttributes(int fd, out termios attributes)
    {
        termios value;
        // SAFETY: value is a local the call fills in.
        bool ok = LibC.tcgetattr(fd, &value) == 0;
        attributes = value;
        return ok;
    }

    public static bool TrySetAttributes(int fd, termios attributes) =>
        // SAFETY: attributes is a local copy that outlives the call.
        LibC.tcsetattr(fd, (int)LibC.TCSANOW, &attributes) == 0;

    /// <summary>
    /// cfmakeraw(3) except for output: bytes in arrive one at a time, unechoed and untranslated, with no
    /// signal keys (Ctrl-C goes to the guest), 8 bits. Output processing (OPOST, '\n' -> "\r\n") is
    /// kept so that the VMM's own diagnostics on stderr still start at column 0; the guest's "\r\n" just
    /// gains a harmless extra '\r'.
    /// </summary>
    public static termios MakeRaw(termios attributes)
    {
        attributes.c_iflag &= ~(LibC.IGNBRK | LibC.BRKINT | LibC.PARMRK | LibC.ISTRIP | LibC.INLCR | LibC.IGNCR
            | LibC.ICRNL | LibC.IXON);
        attributes.c_lflag &= ~(LibC.ECHO | LibC.ECHONL | LibC.ICANON | LibC.ISIG | LibC.IEXTEN);
        attributes.c_cflag &= ~(LibC.CSIZE | LibC.PARENB);
        attributes.c_cflag |= LibC.CS8;
        attributes.c_cc[LibC.VMIN] = 1;
        attributes.c_cc[LibC.VTIME] = 0;
        return attributes;
    }
}
