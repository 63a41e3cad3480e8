using System.Runtime.InteropServices;
using Tmds.Linux;

namespace MiniVmm.Wayland;

/// <summary>An owned file descriptor (received over SCM_RIGHTS, a memfd, a socket); closed once on dispose.</summary>
public sealed class Fd : SafeHandle
{
    public Fd(int fd, bool ownsHandle = true)
        : base(-1, ownsHandle) => SetHandle(fd);

    public override bool IsInvalid => handle.ToInt64() < 0;

    /// <summary>The raw number, for poll/epoll registration. Valid only while this object is alive.</summary>
    public int Value => (int)handle.ToInt64();

    protected override bool ReleaseHandle() => LibC.close((int)handle.ToInt64()) == 0;

    public override string ToString() => "fd " + Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
