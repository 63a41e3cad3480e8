using System.Runtime.InteropServices;

namespace MiniVmm.Kvm;

/// <summary>An ioctl on /dev/kvm or one of its fds failed. The message names the ioctl and the errno.</summary>
public sealed class KvmException(string operation, int errno)
    : Exception($"{operation} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})")
{
    public string Operation { get; } = operation;
    public int Errno { get; } = errno;

    public const int EINTR = 4;
    public const int ENOENT = 2;
    public const int EACCES = 13;
    public const int EFAULT = 14;
    public const int E2BIG = 7;
    public const int EAGAIN = 11;
}
