using Microsoft.Win32.SafeHandles;
using MiniVmm.Memory;

namespace MiniVmm.Gpu.Backend;

// Lives under Winsrv/ because only the winsrv front door uses it; it is a partial of the backend so it can read
// the resource tables under the backend's own lock without widening any field.
public sealed partial class Gpu2DBackend
{
    /// <summary>
    /// A close-on-exec dup of the memfd winsrv passes to the compositor for resource <paramref name="resourceId"/>,
    /// and its size; null with <paramref name="refusal"/> (and whether it is a lack of host memory) otherwise.
    /// HOST3D blob: its own memfd, so the compositor maps the pages the guest draws into. 2D resource with guest
    /// backing (what a 2018 guest has, with no blobs): one memfd per resource, as the 2018 thread has the host do
    /// ("looks up shmem FD for each resource"), made at its first TX, refilled from the backing at every TX that
    /// names it, updated by each TRANSFER_TO_HOST_2D, and kept until UNREF; it counts against the host memory cap.
    /// GUEST blobs and 2D resources without backing are refused. The dup outlives an UNREF that follows, which is
    /// what a compositor holding a wl_shm pool needs.
    /// </summary>
    internal SafeFileHandle? TryDupWinsrvFd(uint resourceId, out ulong size, out string? refusal, out bool outOfMemory)
    {
        size = 0;
        outOfMemory = false;
        lock (_lock)
        {
            MappedMemfd? memfd;
            if (_blobs.TryGetValue(resourceId, out var blob))
            {
                memfd = blob.Host;
                refusal = memfd is null ? $"resource {resourceId} is a GUEST blob: it has no host memfd to pass" : null;
            }
            else if (_resources.TryGetValue(resourceId, out var resource))
                memfd = ShareLocked(resource, out refusal, out outOfMemory);
            else
            {
                memfd = null;
                refusal = $"no resource {resourceId}";
            }
            if (memfd is null)
                return null;
            if (memfd.Duplicate() is not { } dup)
            {
                refusal = "no fd left to dup the memfd"; // EMFILE: refused like an unknown id
                return null;
            }
            size = memfd.Size;
            return dup;
        }
    }

    /// <summary>The resource's winsrv memfd, made on first use, filled from the whole backing.</summary>
    private MappedMemfd? ShareLocked(Resource2D resource, out string? refusal, out bool outOfMemory)
    {
        outOfMemory = false;
        if (resource.Backing is not { } backing || resource.BackingMemory is not { } memory)
        {
            refusal = $"2D resource {resource.Id} has no guest backing to share";
            return null;
        }
        if (resource.Shared is null)
        {
            ulong size = ((ulong)resource.Pixels.LongLength + PageSize - 1) & ~(PageSize - 1);
            // The one host budget, like every other memfd the guest makes the host hold.
            if (Budget.Refuse($"winsrv share of 2D resource {resource.Id}", (long)size, fds: 1) is not null)
            {
                outOfMemory = true;
                refusal = $"sharing 2D resource {resource.Id} needs {size} bytes, past the {Budget.MaxBytes}-byte cap ({Budget.Bytes} in use)";
                return null;
            }
            resource.Shared = MappedMemfd.TryCreate($"minivmm-winsrv-{resource.Id}", size, out refusal);
            if (resource.Shared is null)
            {
                outOfMemory = true;
                return null;
            }
            Budget.TryCharge($"winsrv share of 2D resource {resource.Id}", (long)size, fds: 1); // fits: checked above
            _hostBytes += (long)size;
        }
        // The backing may be shorter than the image (TRANSFER only checks what it reads): the rest keeps what it had.
        int length = (int)Math.Min((ulong)resource.Pixels.LongLength, backing.Length);
        var error = backing.TryRead(memory, 0, resource.Shared.GetSpan(0, length));
        refusal = error == GuestMemoryError.None ? null : $"backing of 2D resource {resource.Id} is not readable: {error}";
        return refusal is null ? resource.Shared : null;
    }

    private void UnshareLocked(Resource2D resource)
    {
        if (resource.Shared is not { } shared)
            return;
        _hostBytes -= (long)shared.Size;
        Budget.Release((long)shared.Size, fds: 1);
        shared.Dispose();
        resource.Shared = null;
    }
}
