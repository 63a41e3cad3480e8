using MiniVmm.Sys;

namespace MiniVmm.Gpu.CrossDomain;

/// <summary>What an fd from the compositor is, which decides how the guest sees it (reference section 2.5).</summary>
internal enum HostFdKind : byte
{
    /// <summary>Seekable (memfd, shm, dmabuf): a host blob of the seek size, e.g. a keymap.</summary>
    Blob,
    /// <summary>The write end of a pipe: the guest fills it with WRITE (e.g. wl_data_source.send).</summary>
    WritePipe,
    /// <summary>Anything else (sockets, read ends): v1 has no identifier type for it.</summary>
    Unsupported,
}

/// <summary>Sorts the fds the compositor sends into what cross-domain can name.</summary>
internal static class CompositorFd
{
    public static HostFdKind Classify(Fd fd, out ulong size)
    {
        if (fd.TryGetSeekLength(out size))
            return HostFdKind.Blob;
        return fd.IsPipe && fd.Access == FdAccess.WriteOnly ? HostFdKind.WritePipe : HostFdKind.Unsupported;
    }
}
