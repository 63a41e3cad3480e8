using MiniVmm.Sys;

namespace MiniVmm.Kvm;

/// <summary>An ioctl on /dev/kvm or one of its fds failed. The message names the ioctl and the errno.</summary>
public sealed class KvmException(string operation, int errno) : ErrnoException(operation, errno)
{
    public const int EINTR = Sys.Errno.EINTR;
    public const int ENOENT = Sys.Errno.ENOENT;
    public const int EACCES = Sys.Errno.EACCES;
    public const int EFAULT = Sys.Errno.EFAULT;
    public const int E2BIG = Sys.Errno.E2BIG;
    public const int EAGAIN = Sys.Errno.EAGAIN;
}
