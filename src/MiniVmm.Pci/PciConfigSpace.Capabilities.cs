namespace MiniVmm.Pci;

// The capability list (PCI 3.0 §6.7): a chain through config space starting at the pointer in 0x34,
// each entry [id, next, body...], announced by status bit 4. Entries are built before the guest runs.
public sealed partial class PciConfigSpace
{
    // Fixed before the guest runs: where the next capability goes and where the last one sits.
    private int _nextCapability = FirstCapabilityOffset;
    private int _lastCapability;

    /// <summary>
    /// Appends a capability and returns its offset. <paramref name="body"/> is everything after the id and
    /// next-pointer bytes; <paramref name="writableBody"/> (same length, or empty for read-only) masks the
    /// bits the guest may write.
    /// </summary>
    public int AddCapability(byte id, ReadOnlySpan<byte> body, ReadOnlySpan<byte> writableBody = default)
    {
        if (!writableBody.IsEmpty && writableBody.Length != body.Length)
            throw new ArgumentException("the writable mask must cover the whole body", nameof(writableBody));
        int offset = _nextCapability;
        int length = 2 + body.Length;
        if (offset + length > Size)
            throw new InvalidOperationException($"capability 0x{id:x2} ({length} bytes) does not fit in config space at 0x{offset:x}");

        SetRegister(offset, 1, id);
        SetRegister(offset + 1, 1, 0);
        for (int i = 0; i < body.Length; i++)
            SetRegister(offset + 2 + i, 1, body[i], writable: writableBody.IsEmpty ? 0u : writableBody[i]);

        if (_lastCapability == 0)
            SetRegister(PCI_CAPABILITY_LIST, 1, (uint)offset);
        else
            SetRegister(_lastCapability + 1, 1, (uint)offset);
        SetValue(PCI_STATUS, 2, (uint)(ReadWord(PCI_STATUS) | PCI_STATUS_CAP_LIST));
        _lastCapability = offset;
        // The spec requires dword-aligned capability pointers (the low two bits are reserved).
        _nextCapability = (offset + length + 3) & ~3;
        return offset;
    }

    /// <summary>Offsets of every capability with <paramref name="id"/>, walking the list as a driver does.</summary>
    public IReadOnlyList<int> FindCapabilities(byte id)
    {
        var found = new List<int>();
        int pointer = ReadByte(PCI_CAPABILITY_LIST) & ~3;
        // A well-formed list cannot have more entries than there are dwords after the header.
        for (int steps = 0; pointer >= FirstCapabilityOffset && steps < (Size - FirstCapabilityOffset) / 4; steps++)
        {
            if (ReadByte(pointer) == id)
                found.Add(pointer);
            pointer = ReadByte(pointer + 1) & ~3;
        }
        return found;
    }
}
