using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace MiniVmm.Sys;

/// <summary>
/// The receiver's fd policy: what becomes of each fd that arrives in SCM_RIGHTS. The receiver takes ownership;
/// returning false means it refused the fd and closed it (a bounded queue that is full).
/// </summary>
public interface IFdSink
{
    bool TryAdd(Fd fd);
}

/// <summary>Fds lost on a receive, which desynchronises a protocol that counts them.</summary>
public enum FdLoss : byte
{
    None,
    /// <summary>The <see cref="IFdSink"/> refused some (the peer sent more than its policy allows).</summary>
    TooManyFds,
    /// <summary>The kernel truncated ancillary data (MSG_CTRUNC), so fds were lost.</summary>
    FdsTruncated,
}

/// <summary>
/// An AF_UNIX stream socket that carries fds in SCM_RIGHTS ancillary data, non-blocking in both directions. This is
/// the one place that builds msghdr/cmsghdr; lengths are computed here rather than with CMSG_LEN so that cmsg_len is
/// exactly header + 4·n (a padded length would make the kernel read an extra, bogus fd).
/// </summary>
public sealed unsafe class UnixSocket : IDisposable
{
    /// <summary>libwayland sends at most 28 fds per sendmsg and sizes its receive buffer for that; so do we.</summary>
    public const int MaxFdsPerSend = 28;

    /// <summary>SCM_MAX_FD: the kernel's own limit per message, so a receive never truncates a conforming peer.</summary>
    private const int MaxFdsPerReceive = 253;

    private static readonly int CmsgHeaderSize = sizeof(cmsghdr);

    private readonly Fd _fd;

    private UnixSocket(int fd) => _fd = new Fd(fd);

    public Fd Handle => _fd;

    /// <summary>Connects to a listening socket; failure is an <see cref="ErrnoException"/> whose operation names the path.</summary>
    public static UnixSocket Connect(string path)
    {
        var operation = "connect to " + path;
        var pathBytes = Encoding.UTF8.GetBytes(path);
        if (pathBytes.Length >= sockaddr_un.sun_path_length)
            throw new ErrnoException(operation, Errno.ENAMETOOLONG);
        var fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            throw new ErrnoException(operation, Errno.Last);
        var socketObject = new UnixSocket(fd);
        var address = Address(pathBytes);
        int result;
        do
        {
            result = connect(fd, (sockaddr*)&address, (uint)sizeof(sockaddr_un));
        }
        while (result < 0 && Errno.Last == EINTR);
        if (result < 0)
        {
            var errno = Errno.Last;
            socketObject.Dispose();
            throw new ErrnoException(operation, errno);
        }
        return socketObject;
    }

    /// <summary>A connected pair (socketpair), for tests and for in-process relays.</summary>
    public static (UnixSocket First, UnixSocket Second) CreatePair()
    {
        var fds = stackalloc int[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
            throw new ErrnoException("socketpair", Errno.Last);
        return (new UnixSocket(fds[0]), new UnixSocket(fds[1]));
    }

    /// <summary>A non-blocking listening socket at <paramref name="path"/>; a stale socket file there is replaced.</summary>
    public static Fd Listen(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path);
        if (bytes.Length >= sockaddr_un.sun_path_length)
            throw new ArgumentException($"socket path too long: {path}", nameof(path));
        File.Delete(path);
        var fd = new Fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        if (fd.IsInvalid)
            throw new IOException($"socket {path}: errno {Errno.Last}");
        var address = Address(bytes);
        if (bind(fd.Value, (sockaddr*)&address, (uint)sizeof(sockaddr_un)) < 0 || listen(fd.Value, 16) < 0)
        {
            var error = new IOException($"bind/listen {path}: errno {Errno.Last}");
            fd.Dispose();
            throw error;
        }
        return fd;
    }

    /// <summary>The next waiting client (non-blocking, close-on-exec), or null when none is waiting.</summary>
    public static Fd? Accept(Fd listener)
    {
        var fd = accept4(listener.Value, null, null, SOCK_CLOEXEC | SOCK_NONBLOCK);
        return fd < 0 ? null : new Fd(fd);
    }

    /// <summary>
    /// Sends what the socket takes now, with up to <see cref="MaxFdsPerSend"/> fds attached to the first byte.
    /// Returns the bytes sent (the fds went with them when it is above 0), or -1 with errno (EAGAIN when full).
    /// </summary>
    public int Send(ReadOnlySpan<byte> data, ReadOnlySpan<int> fds, out int errno) => Send(_fd, data, fds, out errno);

    /// <summary>
    /// <see cref="Send(ReadOnlySpan{byte}, ReadOnlySpan{int}, out int)"/> on any connected stream socket this process
    /// owns elsewhere (the guest proxy's accepted clients), without taking it over.
    /// </summary>
    public static int Send(Fd socket, ReadOnlySpan<byte> data, ReadOnlySpan<int> fds, out int errno)
    {
        errno = 0;
        ArgumentOutOfRangeException.ThrowIfGreaterThan(fds.Length, MaxFdsPerSend, nameof(fds));
        var controlSize = fds.IsEmpty ? 0 : Align(CmsgHeaderSize + fds.Length * sizeof(int));
        var control = stackalloc byte[Align(CmsgHeaderSize + MaxFdsPerSend * sizeof(int))];
        new Span<byte>(control, controlSize).Clear();
        fixed (byte* bytes = data)
        {
            var vector = new iovec { iov_base = bytes, iov_len = data.Length };
            var message = new msghdr { msg_iov = &vector, msg_iovlen = 1 };
            if (!fds.IsEmpty)
            {
                // SAFETY: control holds one cmsghdr plus MaxFdsPerSend ints, and fds.Length <= MaxFdsPerSend.
                var header = (cmsghdr*)control;
                header->cmsg_level = SOL_SOCKET;
                header->cmsg_type = SCM_RIGHTS;
                header->cmsg_len = (uint)(CmsgHeaderSize + fds.Length * sizeof(int));
                fds.CopyTo(new Span<int>(control + CmsgHeaderSize, fds.Length));
                message.msg_control = control;
                message.msg_controllen = (uint)controlSize;
            }
            while (true)
            {
                var sent = (long)sendmsg(socket.Value, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (sent >= 0)
                    return (int)sent;
                errno = Errno.Last;
                if (errno != EINTR)
                    return -1;
            }
        }
    }

    /// <summary>
    /// Writes all of <paramref name="data"/> (fds with the first byte), waiting at most <paramref name="timeout"/> for
    /// room: an <see cref="IOException"/> when the peer fails, a <see cref="TimeoutException"/> when it does not read.
    /// </summary>
    public static void SendAll(Fd socket, ReadOnlySpan<byte> data, ReadOnlySpan<int> fds, TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(fds.Length, MaxFdsPerSend, nameof(fds));
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!data.IsEmpty || !fds.IsEmpty)
        {
            var sent = Send(socket, data, fds, out var error);
            if (sent > 0)
            {
                data = data[sent..];
                fds = default; // the fds went with the first byte
                continue;
            }
            if (error != EAGAIN)
                throw new IOException($"send to client: errno {error}");
            var left = deadline - Environment.TickCount64;
            if (left <= 0 || Poll.Wait(socket.Value, Poll.Out, (int)left) <= 0)
                throw new TimeoutException("the client did not read for " + timeout);
        }
    }

    /// <summary>
    /// Reads what is available without blocking; received fds go to <paramref name="fds"/> in order, which decides
    /// what to keep. Returns bytes read, 0 at end of stream, or -1 with errno. <paramref name="fdLoss"/> reports lost fds.
    /// </summary>
    public int Receive(Span<byte> buffer, IFdSink fds, out int errno, out FdLoss fdLoss) =>
        Receive(_fd, buffer, fds, out errno, out fdLoss);

    /// <summary>
    /// <see cref="Receive(Span{byte}, IFdSink, out int, out FdLoss)"/> on any connected stream socket this process
    /// owns elsewhere (the guest proxy's accepted clients), without taking it over.
    /// </summary>
    public static int Receive(Fd socket, Span<byte> buffer, IFdSink fds, out int errno, out FdLoss fdLoss)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(fds);
        errno = 0;
        fdLoss = FdLoss.None;
        var controlSize = Align(CmsgHeaderSize + MaxFdsPerReceive * sizeof(int));
        var control = stackalloc byte[controlSize];
        fixed (byte* bytes = buffer)
        {
            var vector = new iovec { iov_base = bytes, iov_len = buffer.Length };
            var message = new msghdr { msg_iov = &vector, msg_iovlen = 1, msg_control = control, msg_controllen = (uint)controlSize };
            long received;
            while ((received = (long)recvmsg(socket.Value, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC)) < 0)
            {
                errno = Errno.Last;
                if (errno != EINTR)
                    return -1;
            }
            fdLoss = CollectFds(control, (int)message.msg_controllen, fds);
            if ((message.msg_flags & MSG_CTRUNC) != 0)
                fdLoss = FdLoss.FdsTruncated;
            return (int)received;
        }
    }

    public void Dispose() => _fd.Dispose();

    private static FdLoss CollectFds(byte* control, int length, IFdSink fds)
    {
        var loss = FdLoss.None;
        var offset = 0;
        // SAFETY: every header is checked to lie inside the length the kernel reported before it is read.
        while (offset + CmsgHeaderSize <= length)
        {
            var header = (cmsghdr*)(control + offset);
            var size = (int)header->cmsg_len;
            if (size < CmsgHeaderSize || size > length - offset)
                break;
            if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS)
            {
                var received = new ReadOnlySpan<int>(control + offset + CmsgHeaderSize, (size - CmsgHeaderSize) / sizeof(int));
                foreach (var fd in received)
                {
                    if (!fds.TryAdd(new Fd(fd)))
                        loss = FdLoss.TooManyFds;
                }
            }
            offset += Align(size);
        }
        return loss;
    }

    /// <summary>A sockaddr_un for <paramref name="path"/>, which the caller checked is shorter than sun_path.</summary>
    private static sockaddr_un Address(byte[] path)
    {
        sockaddr_un address = default;
        address.sun_family = AF_UNIX;
        // SAFETY: path is shorter than sun_path and the struct was zeroed, so it stays NUL-terminated.
        path.CopyTo(new Span<byte>(address.sun_path, sockaddr_un.sun_path_length));
        return address;
    }

    private static int Align(int length) => (length + sizeof(nint) - 1) & ~(sizeof(nint) - 1);
}
