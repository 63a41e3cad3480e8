using Microsoft.Win32.SafeHandles;
using System.Runtime.InteropServices;
using MiniVmm.Gpu.Backend;
using MiniVmm.Gpu.CrossDomain;

namespace MiniVmm.Gpu.Winsrv;

/// <summary>
/// The channel's view of the device's resources for winsrv. Guest → host: only HOST3D blobs are sent, as a dup of
/// their memfd, so the compositor maps the very pages the guest draws into. A 2D resource is refused rather than
/// copied into a fresh memfd: a copy would be a snapshot, and every later TRANSFER_TO_HOST would be lost to the
/// compositor's wl_shm pool. GUEST blobs have no host fd and are refused too. Host → guest: compositor fds (the
/// keymap) are kept here under small host-chosen blob ids, which RX reports in resource_ids; the guest turns one
/// into a resource with CREATE_BLOB(HOST3D, blob_id), which takes it with <see cref="TryTakeHostFd"/>.
/// Guarded by the owning <see cref="WinsrvFrontend"/>'s lock.
/// </summary>
internal sealed class WinsrvResources : ICrossDomainResources, IDisposable
{
    /// <summary>Compositor fds waiting for the guest: bounds what a compositor (or a guest that never claims) can pin.</summary>
    public const int MaxPendingHostFds = 64;

    private readonly Gpu2DBackend _backend;
    private readonly Dictionary<uint, (SafeHandle Fd, ulong Size)> _hostFds = [];
    private uint _nextBlobId = 1;

    public WinsrvResources(Gpu2DBackend backend) => _backend = backend;

    public int PendingHostFds => _hostFds.Count;

    public bool TryGetFd(uint resourceId, out SafeHandle fd, out ulong size)
    {
        var dup = _backend.TryDupWinsrvBlobFd(resourceId, out size);
        fd = dup!;
        return dup is not null;
    }

    public uint RegisterHostFd(SafeHandle fd, ulong size)
    {
        if (_hostFds.Count >= MaxPendingHostFds)
        {
            fd.Dispose();
            return 0;
        }
        // Skip 0 (it means "unused" in resource_ids) and ids still pending after a wrap.
        while (_nextBlobId == 0 || _hostFds.ContainsKey(_nextBlobId))
            _nextBlobId++;
        uint id = _nextBlobId++;
        _hostFds.Add(id, (fd, size));
        return id;
    }

    /// <summary>Hands the compositor fd registered under <paramref name="blobId"/> to its new owner, once.</summary>
    public bool TryTakeHostFd(uint blobId, out SafeHandle fd, out ulong size)
    {
        bool found = _hostFds.Remove(blobId, out var entry);
        (fd, size) = found ? entry : (null!, 0UL);
        return found;
    }

    /// <summary>
    /// CREATE_BLOB(HOST3D, <paramref name="blobId"/>) of <paramref name="size"/> bytes adopting a registered compositor
    /// fd: false when none is registered under that id; true with the fd (now the caller's), or true with an error
    /// (the fd stays registered) when the blob would be larger than the fd rounded up to pages: mapping past the end of
    /// the file would fault.
    /// </summary>
    public bool TryClaimHostFd(ulong blobId, ulong size, out SafeFileHandle? fd, out string? error)
    {
        fd = null;
        error = null;
        if (blobId > uint.MaxValue || !_hostFds.TryGetValue((uint)blobId, out var entry))
            return false;
        ulong limit = (entry.Size + 4095) & ~4095UL;
        if (size > limit)
        {
            error = $"blob {blobId} is a {entry.Size}-byte compositor fd, {size} bytes asked";
            return true;
        }
        _hostFds.Remove((uint)blobId);
        fd = new SafeFileHandle(entry.Fd.DangerousGetHandle(), ownsHandle: true);
        entry.Fd.SetHandleAsInvalid();
        return true;
    }

    public void Dispose()
    {
        foreach (var (fd, _) in _hostFds.Values)
            fd.Dispose();
        _hostFds.Clear();
    }
}
