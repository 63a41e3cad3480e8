using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace MiniVmm.Wayland;

/// <summary>
/// A non-blocking AF_UNIX stream socket that carries fds in SCM_RIGHTS ancillary data. This is the one place that
/// builds msghdr/cmsghdr; lengths are computed here rather than with CMSG_LEN so that cmsg_len is exactly
/// header + 4·n (a padded length would make the kernel read an extra, bogus fd).
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

    /// <summary>Connects to a listening socket; failure is a <see cref="WaylandException"/> naming the path and errno.</summary>
    public static UnixSocket Connect(string path)
    {
        var pathBytes = Encoding.UTF8.GetBytes(path);
        if (pathBytes.Length >= sockaddr_un.sun_path_length)
            throw Unreachable(path, 36);
        var fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            throw Unreachable(path, Errno.Last);
        var socketObject = new UnixSocket(fd);
        sockaddr_un address = default;
        address.sun_family = AF_UNIX;
        // SAFETY: pathBytes is shorter than sun_path (checked above) and the struct was zeroed, so it stays NUL-terminated.
        pathBytes.CopyTo(new Span<byte>(address.sun_path, sockaddr_un.sun_path_length));
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
            throw Unreachable(path, errno);
        }
        return socketObject;
    }

    /// <summary>A connected pair (socketpair), for tests and for in-process relays.</summary>
    public static (UnixSocket First, UnixSocket Second) CreatePair()
    {
        var fds = stackalloc int[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
            throw new WaylandException("socketpair failed: " + Errno.Describe(Errno.Last)) { Errno = Errno.Last };
        return (new UnixSocket(fds[0]), new UnixSocket(fds[1]));
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
        if (fds.Length > MaxFdsPerSend)
            ThrowHelper.ArgumentOutOfRange(nameof(fds));
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
    /// Reads what is available without blocking; received fds are appended to <paramref name="fds"/> in order.
    /// Returns bytes read, 0 at end of stream, or -1 with errno. <paramref name="fdError"/> reports lost fds.
    /// </summary>
    public int Receive(Span<byte> buffer, FdQueue fds, out int errno, out WireError fdError) =>
        Receive(_fd, buffer, fds, out errno, out fdError);

    /// <summary>
    /// <see cref="Receive(Span{byte}, FdQueue, out int, out WireError)"/> on any connected stream socket this process
    /// owns elsewhere (the guest proxy's accepted clients), without taking it over.
    /// </summary>
    public static int Receive(Fd socket, Span<byte> buffer, FdQueue fds, out int errno, out WireError fdError)
    {
        errno = 0;
        fdError = WireError.None;
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
            fdError = CollectFds(control, (int)message.msg_controllen, fds);
            if ((message.msg_flags & MSG_CTRUNC) != 0)
                fdError = WireError.FdsTruncated;
            return (int)received;
        }
    }

    public void Dispose() => _fd.Dispose();

    private static WireError CollectFds(byte* control, int length, FdQueue fds)
    {
        var error = WireError.None;
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
                    if (!fds.TryEnqueue(new Fd(fd)))
                        error = WireError.TooManyFds;
                }
            }
            offset += Align(size);
        }
        return error;
    }

    private static int Align(int length) => (length + sizeof(nint) - 1) & ~(sizeof(nint) - 1);

    private static WaylandException Unreachable(string path, int errno) =>
        new($"cannot connect to the Wayland compositor at {path}: {Errno.Describe(errno)}") { Errno = errno };
}
