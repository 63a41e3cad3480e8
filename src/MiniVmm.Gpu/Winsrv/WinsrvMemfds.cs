using Microsoft.Win32.SafeHandles;
using MiniVmm.Gpu.Backend;
using MiniVmm.Memory;

namespace MiniVmm.Gpu.Winsrv;

/// <summary>
/// The memfds winsrv passes to the compositor for the guest's resources. Works on the backend's tables, so every
/// method runs with the resource lock held (<see cref="VirtioGpuBackend.TryDupWinsrvFd"/> takes it).
/// </summary>
internal static class WinsrvMemfds
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
    public static SafeFileHandle? TryDup(ResourceTable resources, BlobTable blobs, HostBudget budget, uint resourceId,
        out ulong size, out string? refusal, out bool outOfMemory)
    {
        size = 0;
        outOfMemory = false;
        MappedMemfd? memfd;
        if (blobs.TryGet(resourceId, out var blob))
        {
            memfd = blob.Host;
            refusal = memfd is null ? $"resource {resourceId} is a GUEST blob: it has no host memfd to pass" : null;
        }
        else if (resources.TryGet(resourceId, out var resource))
            memfd = Share(resource, budget, out refusal, out outOfMemory);
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

    /// <summary>Frees the resource's winsrv memfd, if it has one (UNREF, reset).</summary>
    public static void Unshare(Resource2D resource, HostBudget budget)
    {
        if (resource.Shared is not { } shared)
            return;
        budget.HostBytes -= (long)shared.Size;
        budget.Release((long)shared.Size, fds: 1);
        shared.Dispose();
        resource.Shared = null;
    }

    /// <summary>The resource's winsrv memfd, made on first use, filled from the whole backing.</summary>
    private static MappedMemfd? Share(Resource2D resource, HostBudget budget, out string? refusal, out bool outOfMemory)
    {
        outOfMemory = false;
        if (resource.Backing is not { } backing || resource.BackingMemory is not { } memory)
        {
            refusal = $"2D resource {resource.Id} has no guest backing to share";
            return null;
        }
        if (resource.Shared is null)
        {
            ulong size = ((ulong)resource.Pixels.LongLength + VirtioGpuBackend.PageSize - 1) & ~(VirtioGpuBackend.PageSize - 1);
            // The one host budget, like every other memfd the guest makes the host hold.
            if (budget.Refuse($"winsrv share of 2D resource {resource.Id}", (long)size, fds: 1) is not null)
            {
                outOfMemory = true;
                refusal = $"sharing 2D resource {resource.Id} needs {size} bytes, past the {budget.MaxBytes}-byte cap ({budget.Bytes} in use)";
                return null;
            }
            resource.Shared = MappedMemfd.TryCreate($"minivmm-winsrv-{resource.Id}", size, out refusal);
            if (resource.Shared is null)
            {
                outOfMemory = true;
                return null;
            }
            budget.TryCharge($"winsrv share of 2D resource {resource.Id}", (long)size, fds: 1); // fits: checked above
            budget.HostBytes += (long)size;
        }
        // The backing may be shorter than the image (TRANSFER only checks what it reads): the rest keeps what it had.
        int length = (int)Math.Min((ulong)resource.Pixels.LongLength, backing.Length);
        var error = backing.TryRead(memory, 0, resource.Shared.GetSpan(0, length));
        refusal = error == GuestMemoryError.None ? null : $"backing of 2D resource {resource.Id} is not readable: {error}";
        return refusal is null ? resource.Shared : null;
    }
}
