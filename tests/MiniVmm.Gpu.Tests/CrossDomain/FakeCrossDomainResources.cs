using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using MiniVmm.Gpu.CrossDomain;

namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>
/// Resources for channel tests: guest blobs are unlinked tmpfs files (mmap-able, like the device's memfds), and
/// compositor fds registered as host blobs are kept under odd ids 3, 5, ... (crosvm's numbering).
/// </summary>
internal sealed class FakeCrossDomainResources : IDisposable
{
    private readonly Dictionary<uint, SafeFileHandle> _blobs = [];
    private uint _nextHostId = 3;

    public Dictionary<uint, (SafeHandle Fd, ulong Size)> Registered { get; } = [];

    /// <summary>When false, <see cref="RegisterHostFd"/> refuses (returns 0 and closes the fd).</summary>
    public bool AcceptHostFds { get; set; } = true;

    public ICrossDomainResources Interface => new Adapter(this);

    public SafeFileHandle AddBlob(uint resourceId, long size)
    {
        var path = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"minivmm-xd-{Guid.NewGuid():N}");
        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite);
        File.Delete(path);
        RandomAccess.SetLength(handle, size);
        _blobs.Add(resourceId, handle);
        return handle;
    }

    /// <summary>The bytes at the start of a registered host blob, read through its fd.</summary>
    public byte[] ReadRegistered(uint id, int length)
    {
        var (fd, _) = Registered[id];
        using var view = new SafeFileHandle(fd.DangerousGetHandle(), ownsHandle: false);
        var bytes = new byte[length];
        var read = RandomAccess.Read(view, bytes, 0);
        return bytes[..read];
    }

    public void Dispose()
    {
        foreach (var handle in _blobs.Values)
            handle.Dispose();
        foreach (var (fd, _) in Registered.Values)
            fd.Dispose();
    }

    private sealed class Adapter(FakeCrossDomainResources owner) : ICrossDomainResources
    {
        public bool TryGetFd(uint resourceId, out SafeHandle fd, out ulong size)
        {
            fd = null!;
            size = 0;
            if (!owner._blobs.TryGetValue(resourceId, out var blob))
                return false;
            // Reopening /proc/self/fd/N gives a new descriptor for the same file: the test's stand-in for dup.
            fd = File.OpenHandle($"/proc/self/fd/{blob.DangerousGetHandle()}", FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            size = (ulong)RandomAccess.GetLength(blob);
            return true;
        }

        public uint RegisterHostFd(SafeHandle fd, ulong size)
        {
            if (!owner.AcceptHostFds)
            {
                fd.Dispose();
                return 0;
            }
            var id = owner._nextHostId;
            owner._nextHostId += 2;
            owner.Registered.Add(id, (fd, size));
            return id;
        }
    }
}
