using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MiniVmm.Gpu.CrossDomain;

/// <summary>
/// Compositor fds (a keymap, a compositor's shm) parked under the blob ids the guest was told, until the guest
/// creates a HOST3D blob with that id. Bounded, so a compositor (or a guest that never claims) cannot pin more than
/// <c>capacity</c>; each fd is claimed once. Shared by the cross-domain context and the winsrv front door; every
/// parked fd is also counted in the device's <see cref="CrossDomainLedger"/>, which caps them over all contexts.
/// Not thread-safe: the owner's lock guards it.
/// </summary>
internal sealed class PendingHostFds(int capacity, CrossDomainLedger ledger) : IDisposable
{
    private readonly Dictionary<uint, (SafeHandle Fd, ulong Size)> _fds = [];
    private uint _nextId = 1;

    public int Count => _fds.Count;

    /// <summary>Parks <paramref name="fd"/> and returns its blob id; 0 (and the fd closed) when full or empty.</summary>
    public uint Register(SafeHandle fd, ulong size)
    {
        if (_fds.Count >= capacity || size == 0 || !ledger.TryPark())
        {
            fd.Dispose();
            return 0;
        }
        uint id = NextId();
        _fds.Add(id, (fd, size));
        return id;
    }

    /// <summary>
    /// A blob id nothing is parked under, from the same counter (GET_IMAGE_REQUIREMENTS hands these out, so an image's
    /// blob id never names a compositor fd).
    /// </summary>
    public uint NextId()
    {
        // Skip 0 (it means "none" on the wire) and ids still parked after a wrap.
        while (_nextId == 0 || _fds.ContainsKey(_nextId))
            _nextId++;
        return _nextId++;
    }

    /// <summary>Hands the fd parked under <paramref name="id"/> to its new owner, whatever size it is wanted at.</summary>
    public bool TryTake(uint id, out SafeHandle fd, out ulong size)
    {
        bool found = _fds.Remove(id, out var entry);
        (fd, size) = found ? entry : (null!, 0UL);
        if (found)
            ledger.Unpark();
        return found;
    }

    /// <summary>
    /// CREATE_BLOB(HOST3D, <paramref name="blobId"/>) of <paramref name="size"/> bytes: false when nothing is parked
    /// under that id; true with the fd (now the caller's), or true with an error (the fd stays parked, so a corrected
    /// create still works) when the blob would be larger than the fd rounded up to pages: mapping past the end of the
    /// file would fault.
    /// </summary>
    public bool TryClaim(ulong blobId, ulong size, out SafeFileHandle? fd, out string? error)
    {
        fd = null;
        error = null;
        if (blobId > uint.MaxValue || !_fds.TryGetValue((uint)blobId, out var entry))
            return false;
        ulong limit = (entry.Size + 4095) & ~4095UL;
        if (size > limit)
        {
            error = $"blob {blobId} is a {entry.Size}-byte compositor fd, {size} bytes asked";
            return true;
        }
        _fds.Remove((uint)blobId);
        ledger.Unpark();
        fd = new SafeFileHandle(entry.Fd.DangerousGetHandle(), ownsHandle: true);
        entry.Fd.SetHandleAsInvalid();
        return true;
    }

    public void Dispose()
    {
        foreach (var (fd, _) in _fds.Values)
            fd.Dispose();
        ledger.Unpark(_fds.Count);
        _fds.Clear();
    }
}
