using System.Runtime.InteropServices;

namespace MiniVmm.Gpu.CrossDomain;

/// <summary>
/// What a <see cref="CrossDomainChannel"/> needs from the GPU back end: fds for the guest's blob resources (SEND),
/// and host blobs made from the compositor's fds (RECEIVE). The back end (or the winsrv front door) implements it
/// for one context; the channel never sees resource tables or guest memory.
/// </summary>
public interface ICrossDomainResources
{
    /// <summary>
    /// A new fd (a dup, which the caller disposes) for the host memory of resource <paramref name="resourceId"/>, and
    /// its size. False when the id is unknown, not attached to this context, or has no host fd (a guest-memory blob):
    /// the channel then refuses the SEND.
    /// </summary>
    bool TryGetFd(uint resourceId, out SafeHandle fd, out ulong size);

    /// <summary>
    /// Takes ownership of <paramref name="fd"/> (a compositor memfd such as the keymap) and returns the blob_id under
    /// which the guest may RESOURCE_CREATE_BLOB(HOST3D) it, or 0 when refused (the fd is then already closed).
    /// </summary>
    uint RegisterHostFd(SafeHandle fd, ulong size);
}

/// <summary>Why a channel operation failed. Each is a guest or compositor fault; the device answers ERR_UNSPEC and goes on.</summary>
public enum CrossDomainChannelError : byte
{
    None,
    /// <summary>The compositor closed the connection (or it was reset).</summary>
    HungUp,
    /// <summary>A VIRTGPU_BLOB identifier the resources do not know or cannot give an fd for.</summary>
    UnknownResource,
    /// <summary>An identifier type other than VIRTGPU_BLOB or READ_PIPE in a SEND.</summary>
    UnsupportedIdentifierType,
    /// <summary>A READ_PIPE identifier that is not the next id both sides count (0x80000001, ...).</summary>
    ReadPipeIdMismatch,
    TooManyIdentifiers,
    /// <summary>The guest holds too many open pipes on this channel.</summary>
    TooManyPipes,
    /// <summary>A WRITE to a pipe id this channel did not hand out (or already closed).</summary>
    UnknownPipe,
    /// <summary>Identifiers with no bytes: a stream socket cannot carry fds without at least one byte.</summary>
    FdsWithoutData,
    /// <summary>The host could not make a pipe (fd limit).</summary>
    PipeFailed,
    /// <summary>Past the output queue's bound, the compositor did not make room within the send timeout.</summary>
    Stalled,
    /// <summary>Writing to a pipe failed (its reader went away, now or while earlier bytes were flushed, or it stalled past the bound).</summary>
    PipeWriteFailed,
    /// <summary>A second READ_PIPE identifier in one SEND (crosvm accepts one per SEND).</summary>
    TooManyReadPipes,
}
