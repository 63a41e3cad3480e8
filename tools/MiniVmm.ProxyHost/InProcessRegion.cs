using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using MiniVmm.Gpu;
using Tmds.Linux;

namespace MiniVmm.ProxyHost;

/// <summary>
/// The host-visible region of an in-process device. Nothing is mapped anywhere: a guest would see the pages through
/// the BAR, a host run only needs the blob's fd, so each map keeps a dup of it for <see cref="TakeLastMapped"/>.
/// </summary>
internal sealed class InProcessRegion(ulong size) : IHostVisibleRegion, IDisposable
{
    private readonly Dictionary<ulong, SafeFileHandle> _mapped = [];
    private SafeFileHandle? _last;

    public ulong Size { get; } = size;

    public bool TryMap(ulong offset, ulong size, SafeHandle memfd, out string? error)
    {
        var fd = LibC.fcntl((int)memfd.DangerousGetHandle(), LibC.F_DUPFD_CLOEXEC, 0);
        if (fd < 0)
        {
            error = "dup of the blob's memfd failed: errno " + Marshal.GetLastPInvokeError();
            return false;
        }
        _last = new SafeFileHandle(fd, ownsHandle: true);
        _mapped[offset] = _last;
        error = null;
        return true;
    }

    public void Unmap(ulong offset) => _mapped.Remove(offset);

    public void Dispose() => _last?.Dispose();

    /// <summary>The dup made by the most recent map; the caller owns it from now on.</summary>
    public SafeFileHandle TakeLastMapped()
    {
        var fd = _last ?? throw new InvalidOperationException("no blob was mapped");
        _last = null;
        return fd;
    }
}
