using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace MiniVmm.Sys;

/// <summary>How a file was opened (O_ACCMODE).</summary>
public enum FdAccess : byte
{
    ReadOnly,
    WriteOnly,
    ReadWrite,
    /// <summary>fcntl failed (a closed or bad fd).</summary>
    Unknown,
}

/// <summary>
/// An owned file descriptor (a socket, a pipe end, a memfd, an fd received over SCM_RIGHTS, a device file), closed
/// once on dispose, with the plain I/O calls on it. The one fd type of MiniVmm; <see cref="EventFd"/> is one too.
/// </summary>
public unsafe class Fd : SafeHandle
{
    public Fd(int fd, bool ownsHandle = true)
        : base(-1, ownsHandle) => SetHandle(fd);

    public override bool IsInvalid => handle.ToInt64() < 0;

    /// <summary>The raw number, for poll/epoll registration and SCM_RIGHTS. Valid only while this object is alive.</summary>
    public int Value => (int)handle.ToInt64();

    /// <summary>open(2) read-write and close-on-exec (a device file); null with <paramref name="errno"/>.</summary>
    public static Fd? TryOpen(string path, out int errno)
    {
        int fd;
        fixed (byte* name = System.Text.Encoding.UTF8.GetBytes(path + "\0"))
            fd = open(name, O_RDWR | O_CLOEXEC);
        errno = fd < 0 ? Errno.Last : 0;
        return fd < 0 ? null : new Fd(fd);
    }

    /// <summary>read(2), retrying EINTR: the bytes read (0 at end of file), or -1 with <paramref name="errno"/> (EAGAIN: nothing now).</summary>
    public int Read(Span<byte> buffer, out int errno)
    {
        fixed (byte* bytes = buffer)
            return Transfer(Direction.Read, bytes, buffer.Length, 0, out errno);
    }

    /// <summary>pread(2) at <paramref name="offset"/>, retrying EINTR: the bytes read (0 past the end), or -1 with <paramref name="errno"/>.</summary>
    public int ReadAt(Span<byte> buffer, long offset, out int errno)
    {
        fixed (byte* bytes = buffer)
            return Transfer(Direction.ReadAt, bytes, buffer.Length, offset, out errno);
    }

    /// <summary>One write(2), retrying EINTR: the bytes written, or -1 with <paramref name="errno"/> (EAGAIN: full).</summary>
    public int Write(ReadOnlySpan<byte> data, out int errno)
    {
        fixed (byte* bytes = data)
            return Transfer(Direction.Write, bytes, data.Length, 0, out errno);
    }

    /// <summary>ioctl(2), retrying EINTR: its non-negative result, or minus the errno.</summary>
    public int Ioctl(ulong request, void* argument)
    {
        int result;
        do
            result = ioctl(Value, (int)request, argument);
        while (result < 0 && Errno.Last == EINTR);
        return result < 0 ? -Errno.Last : result;
    }

    /// <summary>Sets O_NONBLOCK (a failure leaves the fd as it was).</summary>
    public void SetNonBlocking()
    {
        var flags = fcntl(Value, F_GETFL);
        if (flags >= 0)
            _ = fcntl(Value, F_SETFL, flags | O_NONBLOCK);
    }

    /// <summary>How the file was opened (F_GETFL).</summary>
    public FdAccess Access
    {
        get
        {
            var flags = fcntl(Value, F_GETFL);
            if (flags < 0)
                return FdAccess.Unknown;
            var mode = flags & O_ACCMODE;
            return mode == O_RDONLY ? FdAccess.ReadOnly : mode == O_WRONLY ? FdAccess.WriteOnly
                : mode == O_RDWR ? FdAccess.ReadWrite : FdAccess.Unknown;
        }
    }

    /// <summary>Whether this is a pipe or a FIFO (fstat).</summary>
    public bool IsPipe
    {
        get
        {
            stat status;
            // SAFETY: status is a local the call fills in.
            return fstat(Value, &status) == 0 && S_ISFIFO(status.st_mode);
        }
    }

    /// <summary>
    /// The file's length by seeking to its end (memfds, shm, dma-bufs seek; pipes and sockets do not). The offset is
    /// put back: another process may share this open file description and read it sequentially.
    /// </summary>
    public bool TryGetSeekLength(out ulong length)
    {
        length = 0;
        long current = lseek(Value, 0, SEEK_CUR);
        long end = lseek(Value, 0, SEEK_END);
        if (current >= 0)
            _ = lseek(Value, current, SEEK_SET);
        if (end < 0)
            return false;
        length = (ulong)end;
        return true;
    }

    /// <summary>A new close-on-exec descriptor for the same file (the caller owns it), or null when the fd table is full.</summary>
    public Fd? Duplicate() => DuplicateOf(this);

    /// <summary>F_DUPFD_CLOEXEC of any handle that holds an fd (a SafeFileHandle memfd); null when the fd table is full.</summary>
    public static Fd? DuplicateOf(SafeHandle fd) => DuplicateRaw(fd) is var raw && raw < 0 ? null : new Fd(raw);

    /// <summary>F_DUPFD_CLOEXEC: the new number, or -1 with errno.</summary>
    internal static int DuplicateRaw(SafeHandle fd) => fcntl((int)fd.DangerousGetHandle(), F_DUPFD_CLOEXEC, 0);

    /// <summary>One read, pread or write of <paramref name="length"/> bytes at <paramref name="bytes"/>, retried while interrupted.</summary>
    private int Transfer(Direction direction, byte* bytes, int length, long offset, out int errno)
    {
        var size = (size_t)(ulong)length;
        while (true)
        {
            // SAFETY: the caller pinned length bytes at bytes.
            var count = direction switch
            {
                Direction.Read => (long)read(Value, bytes, size),
                Direction.ReadAt => (long)pread(Value, bytes, size, offset),
                _ => (long)write(Value, bytes, size),
            };
            errno = count < 0 ? Errno.Last : 0;
            if (count >= 0 || errno != EINTR)
                return (int)count;
        }
    }

    private enum Direction : byte
    {
        Read,
        ReadAt,
        Write,
    }

    protected override bool ReleaseHandle() => close((int)handle.ToInt64()) == 0;

    public override string ToString() => "fd " + Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
