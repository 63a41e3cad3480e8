using System.Buffers.Binary;

namespace MiniVmm.Pci;

/// <summary>
/// MSI-X (PCI 3.0 §6.8.2): the capability in config space plus the vector table and pending-bit array
/// (PBA) that live in one of the device's memory BARs. The model decides when a vector fires: a vector
/// delivers only while MSI-X is enabled, the function is not masked and its own mask bit is clear;
/// otherwise a notification sets its pending bit, and the unmask that makes it deliverable fires it.
/// Delivery itself goes to an <see cref="IMsiVector"/> (the machine's GSI route + irqfd).
/// Thread-safety: <see cref="_lock"/> guards the table, pending bits, enable/mask state and the state
/// last handed to the vectors; config writes, BAR accesses (vCPU threads) and <see cref="Notify"/>
/// (device threads) all take it.
/// </summary>
public sealed class MsixCapability
{
    // Capability layout (offsets from the capability start) and bits, as in Linux's pci_regs.h.
    public const int PCI_MSIX_FLAGS = 2;
    public const ushort PCI_MSIX_FLAGS_QSIZE = 0x07FF;
    public const ushort PCI_MSIX_FLAGS_MASKALL = 0x4000;
    public const ushort PCI_MSIX_FLAGS_ENABLE = 0x8000;
    public const int PCI_MSIX_TABLE = 4;
    public const int PCI_MSIX_PBA = 8;
    public const uint PCI_MSIX_TABLE_BIR = 0x7;
    /// <summary>Capability length: id, next, control, table offset/BIR, PBA offset/BIR.</summary>
    public const int CapabilityLength = 12;

    // Table entry layout.
    public const int PCI_MSIX_ENTRY_SIZE = 16;
    public const int PCI_MSIX_ENTRY_LOWER_ADDR = 0;
    public const int PCI_MSIX_ENTRY_UPPER_ADDR = 4;
    public const int PCI_MSIX_ENTRY_DATA = 8;
    public const int PCI_MSIX_ENTRY_VECTOR_CTRL = 12;
    public const uint PCI_MSIX_ENTRY_CTRL_MASKBIT = 0x1;

    public const int MaxVectors = 2048;

    private readonly Lock _lock = new();
    private readonly PciConfigSpace _config;
    private readonly byte[] _table;
    private readonly bool[] _pending;
    private readonly (MsiMessage Message, bool Deliverable)[] _configured;
    private IMsiVector[]? _vectors;
    private bool _enabled;
    private bool _functionMasked;

    public MsixCapability(PciConfigSpace config, int vectorCount, int bar, uint tableOffset, uint pbaOffset)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (vectorCount is < 1 or > MaxVectors)
            throw new ArgumentOutOfRangeException(nameof(vectorCount), $"MSI-X has 1 to {MaxVectors} vectors");
        if (bar is < 0 or >= PciConfigSpace.PCI_STD_NUM_BARS || ((tableOffset | pbaOffset) & PCI_MSIX_TABLE_BIR) != 0)
            throw new ArgumentException("the table and PBA need a BAR index 0-5 and 8-byte aligned offsets");
        _config = config;
        VectorCount = vectorCount;
        Bar = bar;
        TableOffset = tableOffset;
        PbaOffset = pbaOffset;
        _table = new byte[vectorCount * PCI_MSIX_ENTRY_SIZE];
        _pending = new bool[vectorCount];
        _configured = new (MsiMessage, bool)[vectorCount];
        // Every vector starts masked (§6.8.2.9: the mask bit's reset value is 1).
        for (int i = 0; i < vectorCount; i++)
            _table[(i * PCI_MSIX_ENTRY_SIZE) + PCI_MSIX_ENTRY_VECTOR_CTRL] = (byte)PCI_MSIX_ENTRY_CTRL_MASKBIT;

        Span<byte> body = stackalloc byte[CapabilityLength - 2];
        BinaryPrimitives.WriteUInt16LittleEndian(body, (ushort)(vectorCount - 1));
        BinaryPrimitives.WriteUInt32LittleEndian(body[2..], tableOffset | (uint)bar);
        BinaryPrimitives.WriteUInt32LittleEndian(body[6..], pbaOffset | (uint)bar);
        Span<byte> writable = stackalloc byte[CapabilityLength - 2];
        writable.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(writable, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
        CapabilityOffset = config.AddCapability(PciConfigSpace.PCI_CAP_ID_MSIX, body, writable);
        config.AddWriteHook(CapabilityOffset + PCI_MSIX_FLAGS, 2, (_, _) => ControlWritten());
    }

    public int CapabilityOffset { get; }
    public int VectorCount { get; }
    public int Bar { get; }
    public uint TableOffset { get; }
    public uint PbaOffset { get; }
    public ulong TableSize => (ulong)VectorCount * PCI_MSIX_ENTRY_SIZE;
    /// <summary>One bit per vector in 64-bit words (§6.8.2.10).</summary>
    public ulong PbaSize => (ulong)(VectorCount + 63) / 64 * 8;

    public bool Enabled
    {
        get
        {
            lock (_lock)
                return _enabled;
        }
    }

    /// <summary>Creates the delivery path of every vector; until then notifications only set pending bits.</summary>
    public void Connect(IMsiController controller)
    {
        ArgumentNullException.ThrowIfNull(controller);
        lock (_lock)
        {
            _vectors = [.. Enumerable.Range(0, VectorCount).Select(_ => controller.CreateVector())];
            for (int i = 0; i < VectorCount; i++)
                ReevaluateLocked(i, force: true);
        }
    }

    /// <summary>
    /// The device signals <paramref name="vector"/>: delivered now, or pended while masked. Returns false
    /// when MSI-X is disabled (the device should use INTx) or the vector does not exist.
    /// </summary>
    public bool Notify(int vector)
    {
        lock (_lock)
        {
            if (!_enabled || (uint)vector >= (uint)VectorCount)
                return false;
            if (IsDeliverableLocked(vector) && _vectors is { } vectors)
                vectors[vector].Fire(MessageLocked(vector));
            else
                _pending[vector] = true;
            return true;
        }
    }

    public bool IsPending(int vector)
    {
        lock (_lock)
            return _pending[vector];
    }

    public bool IsMasked(int vector)
    {
        lock (_lock)
            return !IsDeliverableLocked(vector);
    }

    public MsiMessage GetMessage(int vector)
    {
        lock (_lock)
            return MessageLocked(vector);
    }

    /// <summary>Whether [offset, offset + length) of BAR <paramref name="bar"/> is the table or the PBA.</summary>
    public bool Claims(int bar, ulong offset, int length) =>
        bar == Bar && (Within(offset, length, TableOffset, TableSize) || Within(offset, length, PbaOffset, PbaSize));

    /// <summary>A BAR read that <see cref="Claims"/> accepted.</summary>
    public void Read(ulong barOffset, Span<byte> data)
    {
        data.Clear();
        lock (_lock)
        {
            if (Within(barOffset, data.Length, TableOffset, TableSize))
                _table.AsSpan((int)(barOffset - TableOffset), data.Length).CopyTo(data);
            else if (Within(barOffset, data.Length, PbaOffset, PbaSize))
                ReadPbaLocked(barOffset - PbaOffset, data);
        }
    }

    /// <summary>A BAR write that <see cref="Claims"/> accepted. The PBA is read-only; table writes must be aligned dwords or qwords.</summary>
    public void Write(ulong barOffset, ReadOnlySpan<byte> data)
    {
        if (!Within(barOffset, data.Length, TableOffset, TableSize) || data.Length is not (4 or 8) || barOffset % (ulong)data.Length != 0)
            return;
        lock (_lock)
        {
            int at = (int)(barOffset - TableOffset);
            for (int i = 0; i < data.Length; i++)
            {
                int field = (at + i) % PCI_MSIX_ENTRY_SIZE;
                // Vector control: only the mask bit exists; the rest is reserved and reads 0.
                byte mask = field == PCI_MSIX_ENTRY_VECTOR_CTRL ? (byte)PCI_MSIX_ENTRY_CTRL_MASKBIT
                    : field > PCI_MSIX_ENTRY_VECTOR_CTRL ? (byte)0 : (byte)0xFF;
                _table[at + i] = (byte)(data[i] & mask);
            }
            ReevaluateLocked(at / PCI_MSIX_ENTRY_SIZE, force: false);
        }
    }

    private void ControlWritten()
    {
        ushort control = _config.ReadWord(CapabilityOffset + PCI_MSIX_FLAGS);
        lock (_lock)
        {
            _enabled = (control & PCI_MSIX_FLAGS_ENABLE) != 0;
            _functionMasked = (control & PCI_MSIX_FLAGS_MASKALL) != 0;
            for (int i = 0; i < VectorCount; i++)
                ReevaluateLocked(i, force: false);
        }
    }

    /// <summary>Hands a changed route to the vector, and fires a pending vector that just became deliverable.</summary>
    private void ReevaluateLocked(int vector, bool force)
    {
        if (_vectors is not { } vectors)
            return;
        bool deliverable = IsDeliverableLocked(vector);
        var message = MessageLocked(vector);
        var last = _configured[vector];
        if (force || last.Deliverable != deliverable || (deliverable && last.Message != message))
        {
            vectors[vector].Configure(message, deliverable);
            _configured[vector] = (message, deliverable);
        }
        if (deliverable && _pending[vector])
        {
            _pending[vector] = false;
            vectors[vector].Fire(message);
        }
    }

    private bool IsDeliverableLocked(int vector) =>
        _enabled && !_functionMasked && (_table[(vector * PCI_MSIX_ENTRY_SIZE) + PCI_MSIX_ENTRY_VECTOR_CTRL] & PCI_MSIX_ENTRY_CTRL_MASKBIT) == 0;

    private MsiMessage MessageLocked(int vector)
    {
        var entry = _table.AsSpan(vector * PCI_MSIX_ENTRY_SIZE, PCI_MSIX_ENTRY_SIZE);
        ulong address = BinaryPrimitives.ReadUInt64LittleEndian(entry);
        return new MsiMessage(address, BinaryPrimitives.ReadUInt32LittleEndian(entry[PCI_MSIX_ENTRY_DATA..]));
    }

    private void ReadPbaLocked(ulong offset, Span<byte> data)
    {
        for (int i = 0; i < data.Length; i++)
        {
            int firstVector = (int)(offset + (ulong)i) * 8;
            byte bits = 0;
            for (int b = 0; b < 8 && firstVector + b < VectorCount; b++)
                bits |= (byte)(_pending[firstVector + b] ? 1 << b : 0);
            data[i] = bits;
        }
    }

    private static bool Within(ulong offset, int length, ulong start, ulong size) =>
        offset >= start && offset - start < size && (ulong)length <= size - (offset - start);
}
