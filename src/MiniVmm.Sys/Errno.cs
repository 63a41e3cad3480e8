using System.Runtime.InteropServices;

namespace MiniVmm.Sys;

/// <summary>errno values by their C names, the last one a native call set, and one-line descriptions.</summary>
public static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int E2BIG = 7;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int EFAULT = 14;
    public const int ENOTDIR = 20;
    public const int EINVAL = 22;
    public const int EMFILE = 24;
    public const int EPIPE = 32;
    public const int ENAMETOOLONG = 36;
    public const int ELOOP = 40;
    public const int ENOTSOCK = 88;
    public const int EPROTOTYPE = 91;
    public const int ECONNRESET = 104;
    public const int ENOBUFS = 105;
    public const int ECONNREFUSED = 111;

    /// <summary>The errno of the last native call made on this thread.</summary>
    public static int Last => Marshal.GetLastPInvokeError();

    /// <summary>"ECONNREFUSED (Connection refused)".</summary>
    public static string Describe(int errno) => Name(errno) + " (" + new System.ComponentModel.Win32Exception(errno).Message + ")";

    public static bool IsWouldBlock(int errno) => errno == EAGAIN;

    private static string Name(int errno) => errno switch
    {
        EPERM => nameof(EPERM),
        ENOENT => nameof(ENOENT),
        EINTR => nameof(EINTR),
        E2BIG => nameof(E2BIG),
        EBADF => nameof(EBADF),
        EAGAIN => nameof(EAGAIN),
        EACCES => nameof(EACCES),
        EFAULT => nameof(EFAULT),
        ENOTDIR => nameof(ENOTDIR),
        EINVAL => nameof(EINVAL),
        EMFILE => nameof(EMFILE),
        EPIPE => nameof(EPIPE),
        ENAMETOOLONG => nameof(ENAMETOOLONG),
        ENOTSOCK => nameof(ENOTSOCK),
        EPROTOTYPE => nameof(EPROTOTYPE),
        ECONNRESET => nameof(ECONNRESET),
        ENOBUFS => nameof(ENOBUFS),
        ECONNREFUSED => nameof(ECONNREFUSED),
        _ => "errno " + errno.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>A system call failed; the message names the call and the errno. KVM's ioctls throw a subtype.</summary>
public class ErrnoException(string operation, int errno)
    : Exception($"{operation} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})")
{
    public string Operation { get; } = operation;
    public int Errno { get; } = errno;
}
