using System.Text;
using MiniVmm.Wayland;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace MiniVmm.GuestProxy.Native;

/// <summary>
/// The proxy's own socket calls: listening and accepting (MiniVmm.Wayland's <see cref="UnixSocket"/> only connects,
/// and cannot wrap an accepted fd), plus sending and receiving with SCM_RIGHTS on an accepted client through
/// UnixSocket's static sendmsg/recvmsg, so the cmsg code exists once.
/// </summary>
internal static unsafe class ProxySocket
{
    /// <summary>A listening AF_UNIX socket at <paramref name="path"/>; a stale socket file there is replaced.</summary>
    public static Fd Listen(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path);
        if (bytes.Length >= sockaddr_un.sun_path_length)
            throw new ArgumentException($"socket path too long: {path}", nameof(path));
        File.Delete(path);
        var fd = new Fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        if (fd.IsInvalid)
            throw Failure("socket", path);
        sockaddr_un address = default;
        address.sun_family = AF_UNIX;
        bytes.CopyTo(new Span<byte>(address.sun_path, sockaddr_un.sun_path_length));
        if (bind(fd.Value, (sockaddr*)&address, (uint)sizeof(sockaddr_un)) < 0 || listen(fd.Value, 16) < 0)
        {
            var error = Failure("bind/listen", path);
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
    /// Reads what is there: bytes read (0 = the client hung up, -1 = nothing now or an error in
    /// <paramref name="error"/>). Fds that came along (up to SCM_MAX_FD per message) are appended to
    /// <paramref name="fds"/>; the recvmsg/SCM_RIGHTS work is <see cref="UnixSocket"/>'s.
    /// </summary>
    public static int Receive(Fd socket, Span<byte> buffer, List<Fd> fds, out int error)
    {
        using var arrived = new FdQueue();
        // A lost fd (cut-off control data) shows as a request without its fd, which the relay refuses.
        var read = UnixSocket.Receive(socket, buffer, arrived, out error, out _);
        while (arrived.TryDequeue(out var fd))
            fds.Add(fd);
        return read;
    }

    /// <summary>Writes all of <paramref name="data"/> (fds with the first byte), waiting at most <paramref name="timeout"/> for room.</summary>
    public static void SendAll(Fd socket, ReadOnlySpan<byte> data, ReadOnlySpan<int> fds, TimeSpan timeout)
    {
        if (fds.Length > UnixSocket.MaxFdsPerSend)
            throw new ArgumentOutOfRangeException(nameof(fds), "at most 28 fds per message");
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!data.IsEmpty || !fds.IsEmpty)
        {
            var sent = UnixSocket.Send(socket, data, fds, out var error);
            if (sent > 0)
            {
                data = data[sent..];
                fds = default; // the fds went with the first byte
                continue;
            }
            if (error != EAGAIN)
                throw new IOException($"send to client: errno {error}");
            var left = deadline - Environment.TickCount64;
            var waiter = new pollfd { fd = socket.Value, events = POLLOUT };
            if (left <= 0 || poll(&waiter, 1, (int)left) <= 0)
                throw new TimeoutException("the client did not read for " + timeout);
        }
    }

    /// <summary>Waits (bounded) until <paramref name="fd"/> is readable or failed; false on timeout.</summary>
    public static bool WaitReadable(Fd fd, int timeoutMs)
    {
        var waiter = new pollfd { fd = fd.Value, events = POLLIN };
        return poll(&waiter, 1, timeoutMs) > 0;
    }

    private static IOException Failure(string call, string path) => new($"{call} {path}: errno {errno}");
}
