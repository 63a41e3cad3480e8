using MiniVmm.CrossDomain;
using MiniVmm.Wayland;

namespace MiniVmm.GuestProxy;

/// <summary>
/// A HOST3D blob the proxy made for a client's wl_buffer: <see cref="ResourceId"/> names it in a SEND (the host
/// passes its memfd to the compositor), <see cref="Handle"/> frees it (DRM: the GEM handle; in-process: the resource
/// id again), and <see cref="Fd"/> is what the proxy mmaps to copy the client's pixels in.
/// </summary>
public sealed record HostBlob(uint ResourceId, uint Handle, Fd Fd, ulong Size);

/// <summary>
/// The proxy's only way to the GPU: one cross-domain context (capset 5) with its query and channel rings, for one
/// Wayland client. Two implementations: <see cref="Drm.DrmCrossDomainTransport"/> (the guest's /dev/dri/card0), and
/// on the host tools/MiniVmm.ProxyHost's InProcessCrossDomainTransport (MiniVmm's device model in the same process,
/// for host runs and tests), which the shipped proxy does not carry.
/// Receive is called by one thread; Send, Write and the blob calls may be called from others (the session's send
/// thread, its receive thread and its pipe relay) at the same time.
/// </summary>
public interface ICrossDomainTransport : IDisposable
{
    /// <summary>CTX_CREATE(capset 5), the two ring blobs, INIT for a Wayland channel. Throws with the reason on failure.</summary>
    void Connect();

    /// <summary>A SEND: Wayland bytes (at most <see cref="CrossDomainWire.MaxSendData"/>) and identifiers (host blobs, READ_PIPEs).</summary>
    void Send(ReadOnlySpan<byte> data, ReadOnlySpan<CrossDomainIdentifier> identifiers);

    /// <summary>
    /// A WRITE: bytes (at most <see cref="CrossDomainWire.MaxWriteData"/>) for the host write pipe
    /// <paramref name="pipeId"/> (a WRITE_PIPE identifier of a RECEIVE); <paramref name="hangUp"/> closes it after them.
    /// Throws when the host refused it (the in-process device reports that; a DRM host cannot).
    /// </summary>
    void Write(uint pipeId, ReadOnlySpan<byte> data, bool hangUp);

    /// <summary>
    /// Issues a fenced POLL (ring 1) and waits for it: the message the host wrote, or null when
    /// <paramref name="timeout"/> passed first (the POLL stays outstanding and the next call waits on it again).
    /// </summary>
    CrossDomainReceived? Receive(TimeSpan timeout);

    /// <summary>
    /// RESOURCE_CREATE_BLOB(HOST3D, <paramref name="blobId"/>) for a compositor fd the host registered, and an fd for
    /// its pages that a Wayland client can mmap (DRM: a PRIME export; in-process: a dup of the blob's memfd).
    /// </summary>
    Fd OpenHostBlob(uint blobId, ulong size);

    /// <summary>
    /// GET_IMAGE_REQUIREMENTS on the query ring for a linear image of <paramref name="drmFormat"/> (a DRM fourcc),
    /// waited for. Throws <see cref="InvalidOperationException"/> when the host answers no layout (an unsupported
    /// format or size): the ring is cleared first, so a stale answer is never taken for a fresh one.
    /// </summary>
    ImageRequirements GetImageRequirements(uint width, uint height, uint drmFormat);

    /// <summary>
    /// RESOURCE_CREATE_BLOB(HOST3D) with exactly <paramref name="image"/>'s blob_id and size, as crosvm requires, attached
    /// to this context so a SEND may name it, plus an fd the proxy can mmap.
    /// </summary>
    HostBlob CreateHostBlob(ImageRequirements image);

    /// <summary>Frees a blob from <see cref="CreateHostBlob(ImageRequirements)"/> (after the SEND that named it); its Fd stays the caller's.</summary>
    void DestroyHostBlob(HostBlob blob);
}
