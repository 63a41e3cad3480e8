using static Tmds.Linux.LibC;

namespace MiniVmm.Sys;

/// <summary>pipe2(2).</summary>
public static unsafe class Pipe
{
    /// <summary>A close-on-exec pipe whose read end is non-blocking (its owner polls it); the write end is left blocking for its user.</summary>
    public static bool TryCreate(out Fd? readEnd, out Fd? writeEnd, out int errno)
    {
        readEnd = writeEnd = null;
        var fds = stackalloc int[2];
        // SAFETY: fds has room for the two ends.
        if (pipe2(fds, O_CLOEXEC) < 0)
        {
            errno = Errno.Last;
            return false;
        }
        readEnd = new Fd(fds[0]);
        writeEnd = new Fd(fds[1]);
        if (fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0)
        {
            errno = Errno.Last;
            readEnd.Dispose();
            writeEnd.Dispose();
            readEnd = writeEnd = null;
            return false;
        }
        errno = 0;
        return true;
    }
}
