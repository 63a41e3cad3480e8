using System.Runtime.InteropServices;

namespace MiniVmm.Gpu.CrossDomain;

/// <summary>
/// What a <see cref="CrossDomainContext"/> needs from the back end's resource table: blob fds for SEND and the
/// guest pages of its rings. Called with the context's own lock held; the implementation takes the resource lock
/// (contexts lock before resources, never the other way round).
/// </summary>
internal interface ICrossDomainHost
{
    /// <summary>A dup of HOST3D blob <paramref name="resourceId"/>'s memfd, when it is attached to context <paramref name="ctxId"/>.</summary>
    bool TryGetBlobFd(uint ctxId, uint resourceId, out SafeHandle fd, out ulong size);

    /// <summary>Null when <paramref name="resourceId"/> can be a ring of context <paramref name="ctxId"/> (an attached GUEST blob), else why not.</summary>
    string? CheckRing(uint ctxId, uint resourceId);

    /// <summary>Writes <paramref name="message"/> at offset 0 of ring <paramref name="resourceId"/>, across its mem entries; null or why not.</summary>
    string? WriteRing(uint ctxId, uint resourceId, ReadOnlySpan<byte> message);
}
