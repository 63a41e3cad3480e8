using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace MiniVmm.Gpu.Backend;

// Lives under Winsrv/ because only the winsrv front door uses it; it is a partial of the backend so it can read
// the blob table under the backend's own lock without widening any field.
public sealed partial class Gpu2DBackend
{
    /// <summary>
    /// A close-on-exec dup of HOST3D blob <paramref name="resourceId"/>'s memfd and the blob's size, or null when
    /// the id is unknown or names something without a host memfd (a 2D resource, a GUEST blob). The dup outlives
    /// an UNREF that follows, which is what a compositor holding a wl_shm pool needs.
    /// </summary>
    internal SafeFileHandle? TryDupWinsrvBlobFd(uint resourceId, out ulong size)
    {
        size = 0;
        lock (_lock)
        {
            if (!_blobs.TryGetValue(resourceId, out var blob) || blob.Host is not { } host)
                return null;
            int dup = LibC.fcntl((int)host.Fd.DangerousGetHandle(), LibC.F_DUPFD_CLOEXEC, 0);
            if (dup < 0)
                return null; // EMFILE: refused like an unknown id; the guest gets an error response
            size = blob.Size;
            return new SafeFileHandle(dup, ownsHandle: true);
        }
    }
}
