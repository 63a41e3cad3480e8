using Microsoft.Win32.SafeHandles;
using static Tmds.Linux.LibC;

namespace MiniVmm.Sys;

/// <summary>
/// Shrink seals, so that pages this process maps cannot be taken away under it. A memfd is only safe to map while
/// nobody can ftruncate it shorter: an access past the new end is SIGBUS in this process (a fatal
/// AccessViolationException in .NET) or EFAULT from KVM_RUN when the pages are a guest memory slot. Memfds MiniVmm
/// creates are sealed before they are shared (<see cref="Memfd.TryCreate(string, ulong, out MemfdFailure)"/>); an fd
/// from the compositor is mapped only when it carries F_SEAL_SHRINK and is long enough, and copied otherwise
/// (<see cref="TryAdopt"/>).
/// </summary>
public static class MemfdSeals
{
    /// <summary>F_ADD_SEALS F_SEAL_SHRINK (and F_SEAL_SEAL is not added: the compositor may still seal writes); false with errno on failure.</summary>
    public static bool TrySealAgainstShrinking(SafeFileHandle fd, out int errno)
    {
        errno = 0;
        if (fcntl((int)fd.DangerousGetHandle(), F_ADD_SEALS, F_SEAL_SHRINK) == 0)
            return true;
        errno = Errno.Last;
        return false;
    }

    /// <summary>
    /// Whether <paramref name="fd"/> is sealed against shrinking and its pages cover <paramref name="size"/> bytes (a
    /// file's last page is whole in a mapping, so a 2-byte keymap covers a 4096-byte blob).
    /// </summary>
    public static bool IsSafeToMap(SafeFileHandle fd, ulong size)
    {
        const ulong Page = 4096;
        int seals = fcntl((int)fd.DangerousGetHandle(), F_GET_SEALS);
        using var view = new Fd((int)fd.DangerousGetHandle(), ownsHandle: false);
        return seals >= 0 && (seals & F_SEAL_SHRINK) != 0 && view.TryGetSeekLength(out ulong length)
            && length <= ulong.MaxValue - Page && ((length + Page - 1) & ~(Page - 1)) >= size;
    }

    /// <summary>
    /// Takes over a compositor's <paramref name="fd"/> as <paramref name="size"/> bytes of mapped memory: the fd itself
    /// when it is sealed against shrinking and long enough (read-only when it is write-sealed, like Weston's keymap),
    /// otherwise a sealed copy of its first <paramref name="size"/> bytes (bytes past its end read as zero), so nothing
    /// the compositor does to its fd afterwards can pull pages from under us. The fd is closed on every path but the
    /// first. Null with a reason.
    /// </summary>
    public static MappedMemfd? TryAdopt(SafeFileHandle fd, ulong size, string copyName, out string? error)
    {
        if (IsSafeToMap(fd, size))
            return MappedMemfd.TryWrap(fd, size, out error);
        using (fd)
        {
            var copy = MappedMemfd.TryCreate(copyName, size, out error);
            if (copy is null)
                return null;
            using var source = new Fd((int)fd.DangerousGetHandle(), ownsHandle: false);
            if (!TryCopy(source, copy, out error))
            {
                copy.Dispose();
                return null;
            }
            return copy;
        }
    }

    /// <summary>pread of the source into the copy, chunk by chunk; a short file stops early (the rest stays zero).</summary>
    private static bool TryCopy(Fd source, MappedMemfd copy, out string? error)
    {
        error = null;
        const int Chunk = 1 << 20;
        for (ulong offset = 0; offset < copy.Size;)
        {
            int length = (int)Math.Min(Chunk, copy.Size - offset);
            int read = source.ReadAt(copy.GetSpan(offset, length), (long)offset, out int errno);
            if (read < 0)
            {
                error = $"copying the compositor's fd failed: errno {errno}";
                return false;
            }
            if (read == 0)
                return true;
            offset += (ulong)read;
        }
        return true;
    }
}
