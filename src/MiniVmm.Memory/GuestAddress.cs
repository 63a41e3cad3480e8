namespace MiniVmm.Memory;

/// <summary>
/// A guest-physical address. There are deliberately no arithmetic operators: callers pick
/// checked arithmetic (<see cref="TryAdd"/>) so a guest-supplied value can never wrap silently.
/// </summary>
public readonly record struct GuestAddress(ulong Value)
{
    public bool TryAdd(ulong offset, out GuestAddress result)
    {
        ulong sum = Value + offset;
        if (sum < Value)
        {
            result = default;
            return false;
        }
        result = new GuestAddress(sum);
        return true;
    }

    /// <summary>Adds an offset the caller knows cannot overflow (VMM-chosen layout constants).</summary>
    public GuestAddress Offset(ulong offset) =>
        TryAdd(offset, out var result) ? result : throw new OverflowException($"guest address {this} + 0x{offset:x} overflows");

    public bool IsAligned(ulong alignment) => alignment != 0 && (Value & (alignment - 1)) == 0;

    public override string ToString() => $"0x{Value:x}";
}
