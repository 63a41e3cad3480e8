namespace MiniVmm.GuestProxy.Drm;

/// <summary>
/// The system calls <see cref="DrmCrossDomainTransport"/> makes on the DRM device file, and nothing more, so that its
/// logic can run against a model of the driver where no guest kernel is at hand. Results are 0 (or a count) on
/// success and -errno on failure, as the kernel returns them; <see cref="LinuxDrmFile"/> is the real thing.
/// Dispose closes the file (the kernel then destroys the context and drops the file's GEM handles).
/// </summary>
internal unsafe interface IDrmFile : IDisposable
{
    /// <summary>open(path, O_RDWR | O_CLOEXEC).</summary>
    int Open(string path);

    /// <summary>ioctl(fd, request, argument), retried on EINTR.</summary>
    int Ioctl(ulong request, void* argument);

    /// <summary>mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset): the address, or null with -errno in <paramref name="error"/>.</summary>
    void* Map(ulong offset, ulong length, out int error);

    /// <summary>munmap.</summary>
    void Unmap(void* address, ulong length);

    /// <summary>poll(POLLIN) for a drm_event: 1 readable, 0 timed out, -errno.</summary>
    int WaitForEvent(int timeoutMs);

    /// <summary>read(): whole drm_events that fit in <paramref name="length"/> bytes; the byte count or -errno.</summary>
    long Read(byte* buffer, int length);
}
