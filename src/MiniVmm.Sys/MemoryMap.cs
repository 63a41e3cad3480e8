using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace MiniVmm.Sys;

/// <summary>mmap(2) of a file shared with others (a memfd, a blob, a DRM object), and munmap(2).</summary>
public static unsafe class MemoryMap
{
    /// <summary>
    /// Maps <paramref name="size"/> bytes of <paramref name="fd"/> from <paramref name="offset"/> MAP_SHARED, readable,
    /// and writable when asked (<paramref name="noReserve"/>: MAP_NORESERVE, for guest RAM and blobs). 0 with
    /// <paramref name="errno"/> on failure. The caller unmaps with <see cref="Unmap"/> and the same size.
    /// </summary>
    public static nint TryMapShared(SafeHandle fd, ulong size, bool writable, out int errno, long offset = 0, bool noReserve = false)
    {
        bool added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            int protection = writable ? PROT_READ | PROT_WRITE : PROT_READ;
            int flags = noReserve ? MAP_SHARED | MAP_NORESERVE : MAP_SHARED;
            // SAFETY: a fresh mapping of a live fd at an address the kernel chooses: nothing existing is touched.
            void* pointer = mmap(null, (size_t)size, protection, flags, (int)fd.DangerousGetHandle(), offset);
            errno = pointer == MAP_FAILED ? Errno.Last : 0;
            return pointer == MAP_FAILED ? 0 : (nint)pointer;
        }
        finally
        {
            if (added)
                fd.DangerousRelease(); // a mapping keeps the file alive by itself
        }
    }

    /// <summary>munmap(2); it only fails for a bad range, which a mapping made by <see cref="TryMapShared"/> is not.</summary>
    public static void Unmap(nint address, ulong size) => _ = munmap((void*)address, (size_t)size);
}
