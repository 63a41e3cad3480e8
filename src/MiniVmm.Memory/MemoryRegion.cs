using Microsoft.Win32.SafeHandles;

namespace MiniVmm.Memory;

/// <summary>
/// One contiguous guest-physical range backed by host memory from a memfd (so the same pages can be
/// handed to KVM as a memory slot and, later, to a compositor with SCM_RIGHTS).
/// </summary>
public sealed class MemoryRegion
{
    internal MemoryRegion(GuestAddress start, ulong size, nint hostAddress, SafeFileHandle fd)
    {
        Start = start;
        Size = size;
        HostAddress = hostAddress;
        Handle = fd;
    }

    public GuestAddress Start { get; }
    public ulong Size { get; }

    /// <summary>Exclusive end; never overflows because regions are validated at construction.</summary>
    public ulong End => Start.Value + Size;

    /// <summary>Host virtual address of the mapping. Only the machine builder reads this, to register KVM slots.</summary>
    public nint HostAddress { get; }

    /// <summary>The memfd behind the mapping.</summary>
    public int Fd => (int)Handle.DangerousGetHandle();

    internal SafeFileHandle Handle { get; }

    public bool Contains(ulong address) => address >= Start.Value && address < End;
}
