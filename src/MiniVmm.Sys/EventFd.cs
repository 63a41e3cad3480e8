using Tmds.Linux;

namespace MiniVmm.Sys;

/// <summary>
/// An eventfd: how devices raise interrupts (irqfd), how KVM reports queue notifications (ioeventfd), and how one
/// thread wakes another out of a poll or the <see cref="EventLoop"/>.
/// </summary>
public sealed unsafe class EventFd : Fd
{
    public EventFd(bool nonBlocking = false)
        : base(Create(nonBlocking))
    {
    }

    /// <summary>Adds <paramref name="value"/> to the counter; throws when the write fails.</summary>
    public void Signal(ulong value = 1)
    {
        // SAFETY: writes 8 bytes from a local.
        if (LibC.write(Value, &value, 8) != 8)
            throw new ErrnoException("eventfd write", Errno.Last);
    }

    /// <summary>Adds one, ignoring failure: a full counter (EAGAIN) already means "wake up".</summary>
    public void Wake()
    {
        ulong one = 1;
        // SAFETY: writes 8 bytes from a local.
        _ = LibC.write(Value, &one, 8);
    }

    /// <summary>Reads and resets the counter; returns 0 when a non-blocking eventfd had nothing.</summary>
    public ulong Read()
    {
        ulong value = 0;
        // SAFETY: reads 8 bytes into a local.
        return LibC.read(Value, &value, 8) == 8 ? value : 0;
    }

    private static int Create(bool nonBlocking)
    {
        int fd = LibC.eventfd(0, LibC.EFD_CLOEXEC | (nonBlocking ? LibC.EFD_NONBLOCK : 0));
        return fd >= 0 ? fd : throw new ErrnoException("eventfd", Errno.Last);
    }
}
