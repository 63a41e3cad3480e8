using MiniVmm.Wayland;

namespace MiniVmm.GuestProxy.Shm;

/// <summary>
/// A client's pool fd, shared by the pool object and every generation of its pool (each copy-on-commit preads from
/// it): closed when the pool object and the last generation are gone. Used by the sending thread only.
/// </summary>
internal sealed class SharedFd(Fd fd)
{
    private int _references = 1; // the wl_shm_pool object

    public Fd Fd => fd;

    public void AddReference() => _references++;

    public void Release()
    {
        if (--_references == 0)
            fd.Dispose();
    }
}
