using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace MiniVmm.Sys;

/// <summary>
/// Anonymous shared memory as a file (memfd): guest RAM, host blobs and Wayland shm pools are made of these, so
/// the same pages can be mapped into this process, registered as a KVM memory slot and handed to the compositor
/// with SCM_RIGHTS. Failures are values (the call that failed and its errno) so callers choose between an
/// exception and a device error response.
/// </summary>
public static unsafe class Memfd
{
    /// <summary>
    /// memfd_create (close-on-exec, sealable) sized to <paramref name="size"/> zero bytes and sealed against shrinking
    /// (<see cref="MemfdSeals"/>): whoever it is shared with cannot truncate pages from under a mapping. Null with the reason.
    /// </summary>
    public static SafeFileHandle? TryCreate(string name, ulong size, out string? error)
    {
        var fd = TryCreate(name, size, out MemfdFailure failure);
        error = fd is null ? failure.ToString() : null;
        return fd;
    }

    /// <summary>As <see cref="TryCreate(string, ulong, out string?)"/>, with the failed call and errno apart.</summary>
    public static SafeFileHandle? TryCreate(string name, ulong size, out MemfdFailure failure)
    {
        failure = default;
        int raw;
        fixed (byte* namePointer = System.Text.Encoding.ASCII.GetBytes(name + "\0"))
            raw = LibC.memfd_create(namePointer, LibC.MFD_CLOEXEC | LibC.MFD_ALLOW_SEALING);
        if (raw < 0)
        {
            failure = new MemfdFailure("memfd_create", Marshal.GetLastPInvokeError());
            return null;
        }
        var fd = new SafeFileHandle(raw, ownsHandle: true);
        if (LibC.ftruncate(raw, (long)size) != 0)
        {
            failure = new MemfdFailure($"ftruncate of a {size}-byte memfd", Marshal.GetLastPInvokeError());
            fd.Dispose();
            return null;
        }
        if (!MemfdSeals.TrySealAgainstShrinking(fd, out int errno))
        {
            failure = new MemfdFailure("F_ADD_SEALS F_SEAL_SHRINK", errno);
            fd.Dispose();
            return null;
        }
        return fd;
    }

    /// <summary>
    /// Maps <paramref name="size"/> bytes of <paramref name="fd"/> shared, read-write (or, when
    /// <paramref name="allowReadOnly"/>, read-only if the fd refuses writes, e.g. a sealed keymap); 0 with the reason.
    /// </summary>
    public static nint TryMapShared(SafeFileHandle fd, ulong size, bool allowReadOnly, out string? error)
    {
        nint pointer = TryMapShared(fd, size, allowReadOnly, out MemfdFailure failure);
        error = pointer == 0 ? failure.ToString() : null;
        return pointer;
    }

    /// <summary>As <see cref="TryMapShared(SafeFileHandle, ulong, bool, out string?)"/>, with the failed call and errno apart.</summary>
    public static nint TryMapShared(SafeFileHandle fd, ulong size, bool allowReadOnly, out MemfdFailure failure)
    {
        failure = default;
        nint pointer = MemoryMap.TryMapShared(fd, size, writable: true, out int errno, noReserve: true);
        if (pointer == 0 && allowReadOnly)
            pointer = MemoryMap.TryMapShared(fd, size, writable: false, out errno);
        if (pointer == 0)
            failure = new MemfdFailure($"mmap of {size} bytes of a memfd", errno);
        return pointer;
    }

    public static void Unmap(nint address, ulong size) => MemoryMap.Unmap(address, size);
}

/// <summary>Which memfd call failed (with its size) and the errno it set.</summary>
public readonly record struct MemfdFailure(string Call, int Errno)
{
    public override string ToString() => $"{Call} failed: errno {Errno}";
}
