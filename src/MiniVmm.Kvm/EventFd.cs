using System.Runtime.InteropServices;
using Tmds.Linux;

namespace MiniVmm.Kvm;

/// <summary>An eventfd: how devices raise interrupts (irqfd) and how KVM reports queue notifications (ioeventfd).</summary>
public sealed unsafe class EventFd : SafeHandle
{
    public EventFd(bool nonBlocking = false) : base(-1, ownsHandle: true)
    {
        int fd = LibC.eventfd(0, LibC.EFD_CLOEXEC | (nonBlocking ? LibC.EFD_NONBLOCK : 0));
        if (fd < 0)
            throw new KvmException("eventfd", Marshal.GetLastPInvokeError());
        SetHandle(fd);
    }

    public override bool IsInvalid => handle == -1;

    public int Fd => (int)handle;

    public void Signal(ulong value = 1)
    {
        if (LibC.write(Fd, &value, 8) != 8)
            throw new KvmException("eventfd write", Marshal.GetLastPInvokeError());
    }

    /// <summary>Reads and resets the counter; returns 0 when a non-blocking eventfd had nothing.</summary>
    public ulong Read()
    {
        ulong value = 0;
        return LibC.read(Fd, &value, 8) == 8 ? value : 0;
    }

    protected override bool ReleaseHandle() => LibC.close((int)handle) == 0;
}
