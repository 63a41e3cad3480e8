using System.Runtime.InteropServices;
using MiniVmm.Gpu;
using MiniVmm.Kvm;
using MiniVmm.Sys;

namespace MiniVmm.Machine.Gpu;

/// <summary>
/// The virtio-gpu host-visible region on KVM, one memory slot per mapped blob (crosvm's default, QEMU's way):
/// MAP_BLOB mmaps the blob's memfd MAP_SHARED and registers it at BAR base + offset; UNMAP deletes the slot, so the
/// hole is an MMIO exit again (reads all ones), never a fault. Slots are numbered from <c>firstSlot</c> (just
/// above the RAM slots) and reused once freed. While the BAR does not decode, mappings are kept but not
/// registered; <see cref="MoveTo"/> (wired to VirtioPciDevice.SharedMemoryMoved) re-registers them at the new base.
/// Threading: <see cref="_lock"/> guards every field; TryMap/Unmap come from the GPU device thread, MoveTo from a
/// vCPU thread under the bus lock.
/// </summary>
public sealed class KvmHostVisibleRegion : IHostVisibleRegion, IDisposable
{
    /// <summary>Most slots used for blobs: far below KVM's 32764 user slots, and the device caps mappings at 4096 too.</summary>
    public const int MaxSlots = 4096;

    private readonly Lock _lock = new();
    private readonly KvmVm _vm;
    private readonly uint _firstSlot;
    private readonly Dictionary<ulong, Mapping> _mappings = []; // guarded by _lock: by offset
    private readonly Stack<uint> _freeSlots = new(); // guarded by _lock
    private uint _nextSlot; // guarded by _lock
    private ulong? _base; // guarded by _lock: where the BAR decodes now
    private readonly Action<string>? _log;

    /// <param name="log">Where a BAR placement KVM refuses is reported (one line); the region then decodes nothing.</param>
    public KvmHostVisibleRegion(KvmVm vm, ulong size, uint firstSlot, ulong? baseAddress = null, Action<string>? log = null)
    {
        _log = log;
        if (size == 0 || size % 4096 != 0)
            throw new ArgumentOutOfRangeException(nameof(size), size, "the region must be a positive number of pages");
        _vm = vm;
        Size = size;
        _firstSlot = firstSlot;
        _nextSlot = firstSlot;
        _base = baseAddress;
    }

    public ulong Size { get; }

    public int MappingCount
    {
        get
        {
            lock (_lock)
                return _mappings.Count;
        }
    }

    public bool TryMap(ulong offset, ulong size, SafeHandle memfd, out string? error)
    {
        error = null;
        if (size == 0 || offset % 4096 != 0 || size % 4096 != 0 || offset > Size || size > Size - offset)
        {
            error = $"0x{offset:x}+0x{size:x} is not a page range of the 0x{Size:x}-byte region";
            return false;
        }
        lock (_lock)
        {
            if (_mappings.ContainsKey(offset))
            {
                error = $"0x{offset:x} is mapped already";
                return false;
            }
            if (_freeSlots.Count == 0 && _nextSlot - _firstSlot >= MaxSlots)
            {
                error = $"all {MaxSlots} blob memory slots are in use";
                return false;
            }
            nint host = MapBlob(memfd, size, out bool readOnly, out int errno);
            if (host == 0)
            {
                error = $"mmap of the blob failed (errno {errno})";
                return false;
            }
            uint slot = _freeSlots.Count > 0 ? _freeSlots.Pop() : _nextSlot++;
            var mapping = new Mapping(slot, host, size, readOnly ? KvmMemoryFlags.ReadOnly : KvmMemoryFlags.None);
            if (_base is { } bar && !TryRegister(mapping, bar + offset, out error))
            {
                MemoryMap.Unmap(host, size);
                _freeSlots.Push(slot);
                return false;
            }
            _mappings.Add(offset, mapping);
            return true;
        }
    }

    public void Unmap(ulong offset)
    {
        lock (_lock)
        {
            if (!_mappings.Remove(offset, out var mapping))
                return;
            if (_base is not null)
                _vm.DeleteUserMemoryRegion(mapping.Slot);
            // SAFETY: the slot is gone, so no vCPU reaches these pages through KVM any more.
            MemoryMap.Unmap(mapping.Host, mapping.Size);
            _freeSlots.Push(mapping.Slot);
        }
    }

    /// <summary>The BAR moved (or stopped decoding: null): every slot is deleted, then re-added at the new base.</summary>
    public void MoveTo(ulong? baseAddress)
    {
        lock (_lock)
        {
            if (baseAddress == _base)
                return;
            if (_base is not null)
            {
                foreach (var mapping in _mappings.Values)
                    _vm.DeleteUserMemoryRegion(mapping.Slot);
            }
            _base = null;
            if (baseAddress is not { } bar)
                return;
            // The guest chose the address: KVM refuses one over RAM or another slot (EEXIST). Then, as hardware whose
            // BAR clashes, the region decodes nothing until the guest moves it again; the mappings are kept.
            var registered = new List<Mapping>(_mappings.Count);
            foreach (var (offset, mapping) in _mappings)
            {
                if (!TryRegister(mapping, bar + offset, out string? error))
                {
                    foreach (var done in registered)
                        _vm.DeleteUserMemoryRegion(done.Slot);
                    _log?.Invoke($"the host-visible region at 0x{bar:x} decodes nothing: {error}");
                    return;
                }
                registered.Add(mapping);
            }
            _base = bar;
        }
    }

    /// <summary>Where the region's blobs are registered now; null while the BAR is off or clashes.</summary>
    public ulong? DecodingAt
    {
        get
        {
            lock (_lock)
                return _base;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var offset in _mappings.Keys.ToArray())
                Unmap(offset);
        }
    }

    private bool TryRegister(Mapping mapping, ulong guestAddress, out string? error)
    {
        error = null;
        try
        {
            _vm.SetUserMemoryRegion(mapping.Slot, guestAddress, mapping.Size, mapping.Host, (uint)mapping.Flags);
            return true;
        }
        catch (KvmException e)
        {
            error = mapping.Flags == KvmMemoryFlags.ReadOnly ? e.Message + " (a read-only blob needs KVM_CAP_READONLY_MEM)" : e.Message;
            return false;
        }
    }

    /// <summary>
    /// Maps the blob shared and writable; a blob the host may not write (Weston's keymap since wl_seat 7 is a
    /// write-sealed memfd, so a writable shared mapping fails with EPERM; an O_RDONLY fd gives EACCES) is mapped
    /// read-only and becomes a KVM_MEM_READONLY slot: guest reads hit the pages, guest writes exit as MMIO and are
    /// dropped by the BAR. Returns 0 with <paramref name="errno"/> when neither works.
    /// </summary>
    private static nint MapBlob(SafeHandle memfd, ulong size, out bool readOnly, out int errno)
    {
        readOnly = false;
        nint host = MemoryMap.TryMapShared(memfd, size, writable: true, out errno);
        if (host != 0 || (errno != Errno.EPERM && errno != Errno.EACCES))
            return host;
        readOnly = true;
        return MemoryMap.TryMapShared(memfd, size, writable: false, out errno);
    }

    /// <summary>Whether the slot is read-only (the host may not write the blob either).</summary>
    public bool IsReadOnly(ulong offset)
    {
        lock (_lock)
            return _mappings.TryGetValue(offset, out var mapping) && mapping.Flags == KvmMemoryFlags.ReadOnly;
    }

    private sealed record Mapping(uint Slot, nint Host, ulong Size, KvmMemoryFlags Flags);
}
