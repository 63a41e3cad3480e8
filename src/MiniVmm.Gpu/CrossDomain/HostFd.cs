using System.Runtime.InteropServices;
using MiniVmm.Wayland;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace MiniVmm.Gpu.CrossDomain;

/// <summary>What an fd from the compositor is, which decides how the guest sees it (reference section 2.5).</summary>
internal enum HostFdKind : byte
{
    /// <summary>Seekable (memfd, shm, dmabuf): a host blob of the seek size, e.g. a keymap.</summary>
    Blob,
    /// <summary>The write end of a pipe: the guest fills it with WRITE (e.g. wl_data_source.send).</summary>
    WritePipe,
    /// <summary>Anything else (sockets, read ends): v1 has no identifier type for it.</summary>
    Unsupported,
}

/// <summary>
/// The few syscalls the cross-domain channel needs beyond the Wayland socket: pipes, classifying received fds,
/// and bounded waits. The only unsafe code under CrossDomain/. The guest proxy's pipe relay uses it too.
/// </summary>
internal static unsafe class HostFd
{
    /// <summary>F_GETPIPE_SZ (Linux 2.6.35): succeeds only on pipes, which tells a FIFO from a socket without fstat.</summary>
    private const int F_GETPIPE_SZ = 1032;

    public static int LastErrno => errno;

    public static HostFdKind Classify(SafeHandle fd, out ulong size)
    {
        size = 0;
        var raw = (int)fd.DangerousGetHandle();
        var end = (long)lseek(raw, 0, SEEK_END);
        if (end >= 0)
        {
            // Put the offset back: the compositor may share this open file description and read it sequentially.
            _ = lseek(raw, 0, SEEK_SET);
            size = (ulong)end;
            return HostFdKind.Blob;
        }
        if (fcntl(raw, F_GETPIPE_SZ) >= 0 && (fcntl(raw, F_GETFL) & O_ACCMODE) == O_WRONLY)
            return HostFdKind.WritePipe;
        return HostFdKind.Unsupported;
    }

    /// <summary>A close-on-exec pipe whose read end is non-blocking (the host polls it); the write end is left blocking for its user.</summary>
    public static bool TryCreatePipe(out Fd? readEnd, out Fd? writeEnd, out int error)
    {
        readEnd = writeEnd = null;
        var fds = stackalloc int[2];
        if (pipe2(fds, O_CLOEXEC) < 0)
        {
            error = errno;
            return false;
        }
        readEnd = new Fd(fds[0]);
        writeEnd = new Fd(fds[1]);
        if (fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0)
        {
            error = errno;
            readEnd.Dispose();
            writeEnd.Dispose();
            readEnd = writeEnd = null;
            return false;
        }
        error = 0;
        return true;
    }

    /// <summary>Makes a received write pipe non-blocking, so a stalled reader costs a bounded wait, not the device thread.</summary>
    public static void SetNonBlocking(Fd fd)
    {
        var flags = fcntl(fd.Value, F_GETFL);
        if (flags >= 0)
            _ = fcntl(fd.Value, F_SETFL, flags | O_NONBLOCK);
    }

    /// <summary>read(2), retrying EINTR; -1 with <paramref name="error"/> otherwise.</summary>
    public static int Read(Fd fd, Span<byte> buffer, out int error)
    {
        fixed (byte* bytes = buffer)
        {
            while (true)
            {
                // SAFETY: reads at most buffer.Length bytes into the pinned span.
                var count = (long)read(fd.Value, bytes, (size_t)(ulong)buffer.Length);
                error = count < 0 ? errno : 0;
                if (count >= 0 || error != EINTR)
                    return (int)count;
            }
        }
    }

    /// <summary>One write(2), retrying EINTR: the bytes written, or -1 with <paramref name="error"/> (EAGAIN: full).</summary>
    public static int Write(Fd fd, ReadOnlySpan<byte> data, out int error)
    {
        fixed (byte* bytes = data)
        {
            while (true)
            {
                // SAFETY: writes at most data.Length bytes from the pinned span.
                var count = (long)write(fd.Value, bytes, (size_t)(ulong)data.Length);
                error = count < 0 ? errno : 0;
                if (count >= 0 || error != EINTR)
                    return (int)count;
            }
        }
    }

    /// <summary>poll(2) for POLLOUT; false on timeout. Hang-ups count as ready, so the following write reports them.</summary>
    public static bool WaitWritable(int fd, int timeoutMs)
    {
        var entry = new pollfd { fd = fd, events = POLLOUT };
        int result;
        // SAFETY: one pollfd on the stack.
        while ((result = poll(&entry, 1, timeoutMs)) < 0 && errno == EINTR)
        {
        }
        return result > 0;
    }
}
