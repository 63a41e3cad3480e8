namespace MiniVmm.Memory;

/// <summary>Why a guest-memory access was refused. Devices turn these into virtio error responses.</summary>
public enum GuestMemoryError
{
    None = 0,
    /// <summary>The start address is not inside any region.</summary>
    InvalidAddress,
    /// <summary>Address plus length wraps past 2^64.</summary>
    Overflow,
    /// <summary>The access starts in a region but runs past its end (or into a hole).</summary>
    PartialBuffer,
}

/// <summary>Thrown only by the throwing convenience methods, used for VMM-controlled layout (never guest input).</summary>
public sealed class GuestMemoryException(GuestMemoryError error, GuestAddress address, ulong length)
    : Exception($"guest memory access at {address} (+0x{length:x}) failed: {error}")
{
    public GuestMemoryError Error { get; } = error;
}
