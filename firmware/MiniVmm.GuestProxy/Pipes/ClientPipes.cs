using MiniVmm.CrossDomain;
using MiniVmm.Wayland;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace MiniVmm.GuestProxy.Pipes;

/// <summary>
/// Which client fds are pipes, and how they join a SEND. A client's fds queue up in the order its requests use them,
/// and the compositor hands them out in the order the SENDs carry them, so identifiers must keep that order. Pipes at
/// the head of the queue can go at once: they belong to the request about to be sent or to a later one, and an fd may
/// reach the compositor before the bytes that use it, never after. A non-pipe at the head (a wl_shm pool) stops the
/// draining until its request takes it, which keeps the order.
/// </summary>
internal static unsafe class ClientPipes
{
    /// <summary>
    /// Moves the pipes at the head of <paramref name="fds"/> (at most <paramref name="room"/>) to
    /// <paramref name="relay"/> and their READ_PIPE identifiers to <paramref name="identifiers"/>. Null, or why the
    /// client must go: a pipe's read end (no cross-domain identifier carries data from a client pipe to the
    /// compositor; no core request does that either) or too many pipes at once. A refused fd stays queued.
    /// </summary>
    public static string? TakeLeading(Queue<Fd> fds, PipeRelay relay, List<CrossDomainIdentifier> identifiers, int room)
    {
        while (room > 0 && fds.TryPeek(out var fd) && IsPipe(fd, out var writeEnd))
        {
            if (!writeEnd)
                return "sent the read end of a pipe (cross-domain only carries pipes the compositor writes into)";
            if (relay.AddClientWriteEnd(fd) is not { } identifier)
                return $"has more than {PipeRelay.MaxOpenPipes} pipes open at once";
            fds.Dequeue();
            identifiers.Add(identifier);
            room--;
        }
        return null;
    }

    /// <summary>Whether the fd at the head of <paramref name="fds"/> is a pipe (it then waits for a SEND without one).</summary>
    public static bool NextIsPipe(Queue<Fd> fds) => fds.TryPeek(out var fd) && IsPipe(fd, out _);

    /// <summary>A FIFO (fstat), and whether it may be written (O_WRONLY, or O_RDWR as a named FIFO may be opened).</summary>
    private static bool IsPipe(Fd fd, out bool writable)
    {
        stat status;
        writable = false;
        if (fstat(fd.Value, &status) < 0 || !S_ISFIFO(status.st_mode))
            return false;
        var mode = fcntl(fd.Value, F_GETFL) & O_ACCMODE;
        writable = mode == O_WRONLY || mode == O_RDWR;
        return true;
    }
}
