using System.Buffers.Binary;

namespace MiniVmm.Pci;

/// <summary>Identity registers of a PCI function; <see cref="ClassCode"/> is (base class &lt;&lt; 16) | (subclass &lt;&lt; 8) | prog-if.</summary>
public sealed record PciIdentity(ushort VendorId, ushort DeviceId, uint ClassCode, byte Revision = 0,
    ushort SubsystemVendorId = 0, ushort SubsystemId = 0);

/// <summary>
/// The 256-byte configuration space of one type-0 PCI function. Every byte carries two masks: the bits
/// the guest may change (all others are read-only) and the bits a guest write of 1 clears. BAR sizing
/// falls out of the masks: a BAR's writable bits are its address bits, so writing all ones reads back
/// ~(size - 1) | flags, exactly the handshake the PCI spec describes (§6.2.5.1).
/// Thread-safe: <see cref="_lock"/> guards <see cref="_bytes"/>; masks and hooks are fixed before the
/// guest runs. Write hooks run after the lock is released.
/// </summary>
public sealed partial class PciConfigSpace
{
    public const int Size = 256;

    private readonly Lock _lock = new();
    private readonly byte[] _bytes = new byte[Size];
    private readonly byte[] _writable = new byte[Size];
    private readonly byte[] _writeOneToClear = new byte[Size];
    private readonly List<(int Offset, int Length, Action<int, int> Hook)> _hooks = [];

    public PciConfigSpace(PciIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        if (identity.ClassCode > 0xFF_FFFF)
            throw new ArgumentOutOfRangeException(nameof(identity), "class code is 24 bits");
        Identity = identity;
        SetRegister(PCI_VENDOR_ID, 2, identity.VendorId);
        SetRegister(PCI_DEVICE_ID, 2, identity.DeviceId);
        SetRegister(PCI_COMMAND, 2, 0, writable: CommandWritable);
        SetRegister(PCI_STATUS, 2, 0, writeOneToClear: StatusWriteOneToClear);
        SetRegister(PCI_REVISION_ID, 1, identity.Revision);
        SetRegister(PCI_CLASS_PROG, 1, identity.ClassCode & 0xFF);
        SetRegister(PCI_CLASS_DEVICE, 2, identity.ClassCode >> 8);
        // Linux writes cache line size and latency timer during enable; they are plain storage here.
        SetRegister(PCI_CACHE_LINE_SIZE, 1, 0, writable: 0xFF);
        SetRegister(PCI_LATENCY_TIMER, 1, 0, writable: 0xFF);
        SetRegister(PCI_HEADER_TYPE, 1, PCI_HEADER_TYPE_NORMAL);
        SetRegister(PCI_SUBSYSTEM_VENDOR_ID, 2, identity.SubsystemVendorId);
        SetRegister(PCI_SUBSYSTEM_ID, 2, identity.SubsystemId);
        // The interrupt line is scratch storage for software; the bus fills in the GSI it wired.
        SetRegister(PCI_INTERRUPT_LINE, 1, 0, writable: 0xFF);
    }

    public PciIdentity Identity { get; }

    /// <summary>Guest read: any offset and length; bytes past the end read as 0xFF.</summary>
    public void Read(int offset, Span<byte> data)
    {
        data.Fill(0xFF);
        if (offset < 0 || offset >= Size)
            return;
        int count = Math.Min(data.Length, Size - offset);
        lock (_lock)
            _bytes.AsSpan(offset, count).CopyTo(data);
    }

    /// <summary>Guest write: read-only bits keep their value, write-1-to-clear bits clear where a 1 is written.</summary>
    public void Write(int offset, ReadOnlySpan<byte> data)
    {
        if (offset < 0 || offset >= Size)
            return;
        int count = Math.Min(data.Length, Size - offset);
        lock (_lock)
        {
            for (int i = 0; i < count; i++)
            {
                int at = offset + i;
                byte value = data[i];
                byte merged = (byte)((_bytes[at] & ~_writable[at]) | (value & _writable[at]));
                _bytes[at] = (byte)(merged & ~(value & _writeOneToClear[at]));
            }
        }
        foreach (var (hookOffset, hookLength, hook) in _hooks)
        {
            if (offset < hookOffset + hookLength && hookOffset < offset + count)
                hook(offset, count);
        }
    }

    /// <summary>
    /// VMM-side setup of a 1-, 2- or 4-byte register: its value and masks. Not a guest access: read-only
    /// bits are set too. Call before the guest runs (masks are not synchronized).
    /// </summary>
    public void SetRegister(int offset, int size, uint value, uint writable = 0, uint writeOneToClear = 0)
    {
        CheckRegisterSize(size);
        CheckRange(offset, size);
        lock (_lock)
        {
            Store(_bytes, offset, size, value);
            Store(_writable, offset, size, writable);
            Store(_writeOneToClear, offset, size, writeOneToClear);
        }
    }

    /// <summary>VMM-side update of a register's value only (e.g. the interrupt status bit), keeping its masks.</summary>
    public void SetValue(int offset, int size, uint value)
    {
        CheckRegisterSize(size);
        CheckRange(offset, size);
        lock (_lock)
            Store(_bytes, offset, size, value);
    }

    public byte ReadByte(int offset) => (byte)Load(offset, 1);

    public ushort ReadWord(int offset) => (ushort)Load(offset, 2);

    public uint ReadDword(int offset) => Load(offset, 4);

    /// <summary>Runs <paramref name="hook"/>(offset, length) after every guest write touching [offset, offset+length).</summary>
    public void AddWriteHook(int offset, int length, Action<int, int> hook)
    {
        CheckRange(offset, length);
        ArgumentNullException.ThrowIfNull(hook);
        _hooks.Add((offset, length, hook));
    }

    /// <summary>Sets or clears the status register's interrupt bit, which mirrors a pending INTx.</summary>
    public void SetInterruptStatus(bool pending)
    {
        lock (_lock)
        {
            ushort status = (ushort)Load(PCI_STATUS, 2);
            status = pending ? (ushort)(status | PCI_STATUS_INTERRUPT) : (ushort)(status & ~PCI_STATUS_INTERRUPT);
            Store(_bytes, PCI_STATUS, 2, status);
        }
    }

    private uint Load(int offset, int size)
    {
        CheckRange(offset, size);
        Span<byte> buffer = stackalloc byte[4];
        buffer.Clear();
        lock (_lock)
            _bytes.AsSpan(offset, size).CopyTo(buffer);
        return BinaryPrimitives.ReadUInt32LittleEndian(buffer);
    }

    private static void Store(byte[] target, int offset, int size, uint value)
    {
        for (int i = 0; i < size; i++)
            target[offset + i] = (byte)(value >> (8 * i));
    }

    private static void CheckRegisterSize(int size)
    {
        if (size is not (1 or 2 or 4))
            throw new ArgumentOutOfRangeException(nameof(size), $"a register is 1, 2 or 4 bytes, not {size}");
    }

    private static void CheckRange(int offset, int size)
    {
        if (size <= 0 || offset < 0 || offset > Size - size)
            throw new ArgumentOutOfRangeException(nameof(offset), $"config register 0x{offset:x} size {size} is outside the 256-byte space");
    }
}
