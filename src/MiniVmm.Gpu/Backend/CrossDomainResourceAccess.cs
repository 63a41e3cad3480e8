using System.Runtime.InteropServices;
using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Memory;

namespace MiniVmm.Gpu.Backend;

/// <summary>
/// What cross-domain contexts reach of the resource tables (<see cref="ICrossDomainHost"/>): blob fds for SEND and
/// the guest pages of their rings. A context calls in holding its own lock and none other; each call takes the
/// resource lock for the lookup and the ring write only, so no compositor I/O ever runs under it.
/// </summary>
internal sealed class CrossDomainResourceAccess(Lock resourceLock, ContextTable contexts, BlobTable blobs) : ICrossDomainHost
{
    public bool TryGetBlobFd(uint ctxId, uint resourceId, out SafeHandle fd, out ulong size)
    {
        fd = null!;
        size = 0;
        lock (resourceLock)
        {
            if (!TryGetAttached(ctxId, resourceId, out var blob) || blob.Host is not { } host || host.Duplicate() is not { } dup)
                return false;
            fd = dup;
            size = blob.Size;
            return true;
        }
    }

    public string? CheckRing(uint ctxId, uint resourceId)
    {
        lock (resourceLock)
            return CheckRingLocked(ctxId, resourceId, out _);
    }

    public string? WriteRing(uint ctxId, uint resourceId, ReadOnlySpan<byte> message)
    {
        lock (resourceLock)
        {
            if (CheckRingLocked(ctxId, resourceId, out var blob) is { } error)
                return error;
            if ((ulong)message.Length > blob.Size)
                return $"a {message.Length}-byte message does not fit ring {resourceId}";
            var result = blob.Guest!.TryWrite(blob.GuestMemory!, 0, message);
            return result == GuestMemoryError.None ? null : $"ring {resourceId} is not in guest memory: {result}";
        }
    }

    private string? CheckRingLocked(uint ctxId, uint resourceId, out BlobResource blob)
    {
        if (!TryGetAttached(ctxId, resourceId, out blob))
            return $"resource {resourceId} is not a blob of context {ctxId}";
        if (blob.Guest is null)
            return $"resource {resourceId} is not a guest-memory blob";
        return blob.Size < CrossDomainConstants.RingSize ? $"resource {resourceId} is smaller than a {CrossDomainConstants.RingSize}-byte ring" : null;
    }

    private bool TryGetAttached(uint ctxId, uint resourceId, out BlobResource blob)
    {
        blob = null!;
        return contexts.IsAttached(ctxId, resourceId) && blobs.TryGet(resourceId, out blob!);
    }
}
