using System.Runtime.InteropServices;
using MiniVmm.Gpu;
using MiniVmm.Sys;

namespace MiniVmm.ProxyHost;

/// <summary>
/// The host-visible region of an in-process device. Nothing is mapped anywhere: a guest would see the pages through
/// the BAR, a host run only needs the blob's fd, so each map keeps a dup of it for <see cref="TakeLastMapped"/>.
/// </summary>
internal sealed class InProcessRegion(ulong size) : IHostVisibleRegion, IDisposable
{
    private readonly Dictionary<ulong, Fd> _mapped = [];
    private Fd? _last;

    public ulong Size { get; } = size;

    public bool TryMap(ulong offset, ulong size, SafeHandle memfd, out string? error)
    {
        var fd = Fd.DuplicateOf(memfd);
        if (fd is null)
        {
            error = "dup of the blob's memfd failed: errno " + Errno.Last;
            return false;
        }
        _last = fd;
        _mapped[offset] = fd;
        error = null;
        return true;
    }

    public void Unmap(ulong offset) => _mapped.Remove(offset);

    public void Dispose() => _last?.Dispose();

    /// <summary>The dup made by the most recent map; the caller owns it from now on.</summary>
    public Fd TakeLastMapped()
    {
        var fd = _last ?? throw new InvalidOperationException("no blob was mapped");
        _last = null;
        return fd;
    }
}
