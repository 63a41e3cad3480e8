using System.Runtime.InteropServices;
using Tmds.Linux;

namespace MiniVmm.Wayland;

/// <summary>errno values as their C names plus strerror text, for one-line error messages.</summary>
internal static class Errno
{
    public static int Last => Marshal.GetLastPInvokeError();

    /// <summary>"ECONNREFUSED (Connection refused)".</summary>
    public static string Describe(int errno) =>
        Name(errno) + " (" + new System.ComponentModel.Win32Exception(errno).Message + ")";

    private static string Name(int errno) => errno switch
    {
        1 => "EPERM",
        2 => "ENOENT",
        4 => "EINTR",
        9 => "EBADF",
        11 => "EAGAIN",
        13 => "EACCES",
        20 => "ENOTDIR",
        22 => "EINVAL",
        24 => "EMFILE",
        32 => "EPIPE",
        36 => "ENAMETOOLONG",
        88 => "ENOTSOCK",
        91 => "EPROTOTYPE",
        104 => "ECONNRESET",
        105 => "ENOBUFS",
        111 => "ECONNREFUSED",
        _ => "errno " + errno.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public static bool IsWouldBlock(int errno) => errno == LibC.EAGAIN;
}
