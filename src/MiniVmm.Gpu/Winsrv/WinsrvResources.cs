using Microsoft.Win32.SafeHandles;
using System.Runtime.InteropServices;
using MiniVmm.Gpu.Backend;
using MiniVmm.Gpu.CrossDomain;

namespace MiniVmm.Gpu.Winsrv;

/// <summary>
/// The channel's view of the device's resources for winsrv. Guest → host: a HOST3D blob is sent as a dup of its
/// memfd, so the compositor maps the very pages the guest draws into; a 2D resource with guest backing (the 2018
/// design) as a dup of the memfd the back end keeps for it, which TRANSFER_TO_HOST_2D keeps current
/// (<see cref="VirtioGpuBackend.TryDupWinsrvFd"/>). GUEST blobs have no host fd and are refused. Host → guest: compositor fds (the
/// keymap) are kept here under small host-chosen blob ids, which RX reports in resource_ids; the guest turns one
/// into a resource with CREATE_BLOB(HOST3D, blob_id), which takes it with <see cref="TryTakeHostFd"/>.
/// Guarded by the owning <see cref="WinsrvFrontend"/>'s lock.
/// </summary>
internal sealed class WinsrvResources : ICrossDomainResources, IDisposable
{
    /// <summary>Compositor fds waiting for the guest: bounds what a compositor (or a guest that never claims) can pin.</summary>
    public const int MaxPendingHostFds = 64;

    private readonly VirtioGpuBackend _backend;
    private readonly PendingHostFds _hostFds;

    public WinsrvResources(VirtioGpuBackend backend)
    {
        _backend = backend;
        _hostFds = new PendingHostFds(MaxPendingHostFds, backend.CrossDomainLedger);
    }

    public int PendingHostFds => _hostFds.Count;

    /// <summary>The device's cross-domain totals, which winsrv connections share with cross-domain contexts.</summary>
    public CrossDomainLedger Ledger => _backend.CrossDomainLedger;

    /// <summary>Why the last refused <see cref="TryGetFd"/> refused, and whether for lack of host memory.</summary>
    public (string? Reason, bool OutOfMemory) LastRefusal { get; private set; }

    public bool TryGetFd(uint resourceId, out SafeHandle fd, out ulong size)
    {
        var dup = _backend.TryDupWinsrvFd(resourceId, out size, out string? refusal, out bool outOfMemory);
        fd = dup!;
        if (dup is null)
            LastRefusal = (refusal, outOfMemory);
        return dup is not null;
    }

    public uint RegisterHostFd(SafeHandle fd, ulong size) => _hostFds.Register(fd, size);

    /// <summary>Hands the compositor fd registered under <paramref name="blobId"/> to its new owner, once.</summary>
    public bool TryTakeHostFd(uint blobId, out SafeHandle fd, out ulong size) => _hostFds.TryTake(blobId, out fd, out size);

    /// <summary>CREATE_BLOB(HOST3D, <paramref name="blobId"/>) adopting a registered compositor fd (see <see cref="PendingHostFds.TryClaim"/>).</summary>
    public bool TryClaimHostFd(ulong blobId, ulong size, out SafeFileHandle? fd, out string? error) =>
        _hostFds.TryClaim(blobId, size, out fd, out error);

    public void Dispose() => _hostFds.Dispose();
}
