using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using MiniVmm.Memory;
using MiniVmm.Sys;
using static Tmds.Linux.LibC;

namespace MiniVmm.Bench;

/// <summary>The bench's mapped memfds (<see cref="MappedMemfd"/>): a native client's wl_shm pool, or the guest's
/// view of a HOST3D blob that the device mapped into the host-visible region. Failures end the bench.</summary>
internal static class MappedFd
{
    public static MappedMemfd CreateMemfd(string name, ulong size) =>
        MappedMemfd.TryCreate(name, size, out string? error) ?? throw new InvalidOperationException(error);

    /// <summary>Maps <paramref name="fd"/> (not taken over: a dup is made) shared, read-write.</summary>
    public static MappedMemfd MapDup(SafeHandle fd, ulong size)
    {
        int raw = dup((int)fd.DangerousGetHandle());
        if (raw < 0)
            throw new InvalidOperationException($"dup failed (errno {errno})");
        return MappedMemfd.TryMap(new SafeFileHandle(raw, ownsHandle: true), size, allowReadOnly: false, out MemfdFailure failure)
            ?? throw new InvalidOperationException(failure.ToString());
    }
}
