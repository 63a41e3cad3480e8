using System.Buffers.Binary;
using MiniVmm.Memory;
using MiniVmm.Virtio.Queue;
using static MiniVmm.Virtio.Transport.VirtioPciConstants;

namespace MiniVmm.Virtio.Transport;

// The common configuration structure (virtio 1.2 §4.1.4.3) and the device status state machine (§2.1,
// §3.1.1): feature negotiation, queue setup, DRIVER_OK (validate and activate) and reset.
public sealed partial class VirtioPciDevice
{
    // Guarded by _lock.
    private readonly QueueRegisters[] _queues;
    private uint _deviceFeatureSelect;
    private uint _driverFeatureSelect;
    private ulong _driverFeatures;
    private ushort _msixConfig = VIRTIO_MSI_NO_VECTOR;
    private byte _status;
    private byte _configGeneration;
    private ushort _queueSelect;
    private string? _lastError;
    // Written under _lock, read lock-free by the event loop (a snapshot array, replaced not mutated).
    private Virtqueue?[]? _activeQueues;

    /// <summary>Everything the transport offers: the device's bits plus VERSION_1, INDIRECT_DESC and EVENT_IDX.</summary>
    public ulong OfferedFeatures => _device.DeviceFeatures | TransportFeatures;

    public byte Status
    {
        get
        {
            lock (_lock)
                return _status;
        }
    }

    /// <summary>Why the transport or the device last set DEVICE_NEEDS_RESET (diagnostics).</summary>
    public string? LastError
    {
        get
        {
            lock (_lock)
                return _lastError;
        }
    }

    private void ReadCommon(int offset, Span<byte> data)
    {
        Span<byte> registers = stackalloc byte[CommonCfgLength];
        lock (_lock)
        {
            ulong offered = OfferedFeatures;
            BinaryPrimitives.WriteUInt32LittleEndian(registers[VIRTIO_PCI_COMMON_DFSELECT..], _deviceFeatureSelect);
            uint deviceFeatures = _deviceFeatureSelect switch { 0 => (uint)offered, 1 => (uint)(offered >> 32), _ => 0 };
            BinaryPrimitives.WriteUInt32LittleEndian(registers[VIRTIO_PCI_COMMON_DF..], deviceFeatures);
            BinaryPrimitives.WriteUInt32LittleEndian(registers[VIRTIO_PCI_COMMON_GFSELECT..], _driverFeatureSelect);
            uint driverFeatures = _driverFeatureSelect switch { 0 => (uint)_driverFeatures, 1 => (uint)(_driverFeatures >> 32), _ => 0 };
            BinaryPrimitives.WriteUInt32LittleEndian(registers[VIRTIO_PCI_COMMON_GF..], driverFeatures);
            BinaryPrimitives.WriteUInt16LittleEndian(registers[VIRTIO_PCI_COMMON_MSIX..], _msixConfig);
            BinaryPrimitives.WriteUInt16LittleEndian(registers[VIRTIO_PCI_COMMON_NUMQ..], (ushort)_queues.Length);
            registers[VIRTIO_PCI_COMMON_STATUS] = _status;
            registers[VIRTIO_PCI_COMMON_CFGGENERATION] = _configGeneration;
            BinaryPrimitives.WriteUInt16LittleEndian(registers[VIRTIO_PCI_COMMON_Q_SELECT..], _queueSelect);
            // A selector past the last queue reads size 0: that is how a driver learns the queue does not exist.
            if (_queueSelect < _queues.Length)
            {
                var queue = _queues[_queueSelect];
                BinaryPrimitives.WriteUInt16LittleEndian(registers[VIRTIO_PCI_COMMON_Q_SIZE..], queue.Size);
                BinaryPrimitives.WriteUInt16LittleEndian(registers[VIRTIO_PCI_COMMON_Q_MSIX..], queue.MsixVector);
                BinaryPrimitives.WriteUInt16LittleEndian(registers[VIRTIO_PCI_COMMON_Q_ENABLE..], queue.Enabled ? (ushort)1 : (ushort)0);
                BinaryPrimitives.WriteUInt16LittleEndian(registers[VIRTIO_PCI_COMMON_Q_NOFF..], _queueSelect);
                BinaryPrimitives.WriteUInt64LittleEndian(registers[VIRTIO_PCI_COMMON_Q_DESCLO..], queue.Descriptors);
                BinaryPrimitives.WriteUInt64LittleEndian(registers[VIRTIO_PCI_COMMON_Q_AVAILLO..], queue.Driver);
                BinaryPrimitives.WriteUInt64LittleEndian(registers[VIRTIO_PCI_COMMON_Q_USEDLO..], queue.Device);
            }
        }
        registers.Slice(offset, data.Length).CopyTo(data);
    }

    /// <summary>Fields must be written at their natural width; 64-bit addresses as one qword or two dwords (§4.1.3.1).</summary>
    private void WriteCommon(int offset, ReadOnlySpan<byte> data)
    {
        Span<byte> wide = stackalloc byte[8];
        wide.Clear();
        data.CopyTo(wide);
        ulong value = BinaryPrimitives.ReadUInt64LittleEndian(wide);
        Action? afterUnlock = null;
        lock (_lock)
        {
            switch (offset, data.Length)
            {
                case (VIRTIO_PCI_COMMON_DFSELECT, 4):
                    _deviceFeatureSelect = (uint)value;
                    break;
                case (VIRTIO_PCI_COMMON_GFSELECT, 4):
                    _driverFeatureSelect = (uint)value;
                    break;
                case (VIRTIO_PCI_COMMON_GF, 4):
                    WriteDriverFeaturesLocked((uint)value);
                    break;
                case (VIRTIO_PCI_COMMON_MSIX, 2):
                    _msixConfig = ValidVector((ushort)value);
                    break;
                case (VIRTIO_PCI_COMMON_STATUS, 1):
                    afterUnlock = WriteStatusLocked((byte)value);
                    break;
                case (VIRTIO_PCI_COMMON_Q_SELECT, 2):
                    _queueSelect = (ushort)value;
                    break;
                default:
                    if (_queueSelect < _queues.Length)
                        WriteQueueLocked(_queues[_queueSelect], offset, data.Length, value);
                    break;
            }
        }
        afterUnlock?.Invoke();
    }

    private void WriteDriverFeaturesLocked(uint value)
    {
        // After FEATURES_OK the negotiated set is fixed (§3.1.1 step 5); later writes are ignored.
        if ((_status & VIRTIO_CONFIG_S_FEATURES_OK) != 0 || _driverFeatureSelect > 1)
            return;
        int shift = 32 * (int)_driverFeatureSelect;
        _driverFeatures = (_driverFeatures & ~(0xFFFF_FFFFUL << shift)) | ((ulong)value << shift);
    }

    /// <summary>Queue fields are read-only once the queue is enabled (§4.1.4.3.2) or the device is live.</summary>
    private void WriteQueueLocked(QueueRegisters queue, int offset, int length, ulong value)
    {
        if (offset == VIRTIO_PCI_COMMON_Q_MSIX && length == 2)
        {
            queue.MsixVector = ValidVector((ushort)value);
            return;
        }
        if (queue.Enabled || (_status & VIRTIO_CONFIG_S_DRIVER_OK) != 0)
            return;
        switch (offset, length)
        {
            case (VIRTIO_PCI_COMMON_Q_SIZE, 2):
                // The driver may shrink the queue, never grow it; it must stay a power of two.
                ushort size = (ushort)value;
                if (size != 0 && size <= queue.MaxSize && (size & (size - 1)) == 0)
                    queue.Size = size;
                break;
            case (VIRTIO_PCI_COMMON_Q_ENABLE, 2):
                // Writing 0 is not allowed (§4.1.4.3.2): only a reset disables a queue.
                if (value == 1)
                    queue.Enabled = true;
                break;
            case (VIRTIO_PCI_COMMON_Q_DESCLO or VIRTIO_PCI_COMMON_Q_AVAILLO or VIRTIO_PCI_COMMON_Q_USEDLO, 8):
                SetAddress(queue, offset, value);
                break;
            case (>= VIRTIO_PCI_COMMON_Q_DESCLO and <= VIRTIO_PCI_COMMON_Q_USEDHI, 4):
                int field = offset - ((offset - VIRTIO_PCI_COMMON_Q_DESCLO) % 8);
                ulong current = GetAddress(queue, field);
                SetAddress(queue, field, offset == field
                    ? (current & 0xFFFF_FFFF_0000_0000) | (uint)value
                    : (current & 0xFFFF_FFFF) | (value << 32));
                break;
        }
    }

    private static ulong GetAddress(QueueRegisters queue, int field) => field switch
    {
        VIRTIO_PCI_COMMON_Q_DESCLO => queue.Descriptors,
        VIRTIO_PCI_COMMON_Q_AVAILLO => queue.Driver,
        _ => queue.Device,
    };

    private static void SetAddress(QueueRegisters queue, int field, ulong address)
    {
        if (field == VIRTIO_PCI_COMMON_Q_DESCLO)
            queue.Descriptors = address;
        else if (field == VIRTIO_PCI_COMMON_Q_AVAILLO)
            queue.Driver = address;
        else
            queue.Device = address;
    }

    /// <summary>A vector the table does not have reads back as NO_VECTOR, which is how the driver learns it was refused.</summary>
    private ushort ValidVector(ushort vector) => vector < _layout.Vectors ? vector : VIRTIO_MSI_NO_VECTOR;

    /// <summary>Applies a status write; returns work to do outside the lock (device Activate/Reset).</summary>
    private Action? WriteStatusLocked(byte value)
    {
        if (value == 0)
            return ResetLocked();
        byte driverBits = (byte)(_status & ~VIRTIO_CONFIG_S_NEEDS_RESET);
        // A driver never clears a status bit except by writing 0 (§2.1.1); such a write is ignored.
        if ((value & driverBits) != driverBits)
            return null;
        byte added = (byte)(value & ~driverBits & ~VIRTIO_CONFIG_S_NEEDS_RESET);
        byte status = (byte)(driverBits | added);
        if ((added & VIRTIO_CONFIG_S_FEATURES_OK) != 0 && RefuseFeaturesLocked() is { } refusal)
        {
            _lastError = refusal;
            status &= unchecked((byte)~VIRTIO_CONFIG_S_FEATURES_OK); // the driver reads it back clear: negotiation failed
        }
        _status = (byte)(status | (_status & VIRTIO_CONFIG_S_NEEDS_RESET));
        if ((added & VIRTIO_CONFIG_S_DRIVER_OK) == 0)
            return null;
        if ((_status & VIRTIO_CONFIG_S_FEATURES_OK) == 0)
            return NeedsResetLocked("DRIVER_OK without FEATURES_OK");
        return ActivateLocked();
    }

    private string? RefuseFeaturesLocked()
    {
        ulong unknown = _driverFeatures & ~OfferedFeatures;
        if (unknown != 0)
            return $"driver accepted features 0x{unknown:x} the device did not offer";
        if ((_driverFeatures & (1UL << VIRTIO_F_VERSION_1)) == 0)
            return "driver did not accept VIRTIO_F_VERSION_1 (legacy drivers are not supported)";
        return null;
    }

    /// <summary>DRIVER_OK: build and validate a queue per enabled slot, then hand them to the device.</summary>
    private Action? ActivateLocked()
    {
        bool eventIndex = (_driverFeatures & (1UL << VIRTIO_RING_F_EVENT_IDX)) != 0;
        var queues = new Virtqueue?[_queues.Length];
        for (int i = 0; i < _queues.Length; i++)
        {
            var registers = _queues[i];
            if (!registers.Enabled)
                continue;
            var queue = new Virtqueue(_memory, registers.Size, new GuestAddress(registers.Descriptors),
                new GuestAddress(registers.Driver), new GuestAddress(registers.Device), eventIndex);
            if (!queue.Validate(out string? error))
                return NeedsResetLocked($"queue {i}: {error}");
            queues[i] = queue;
        }
        Volatile.Write(ref _activeQueues, queues);
        var activation = new VirtioActivation(_driverFeatures, queues, _interrupt);
        return () => _device.Activate(activation);
    }

    private Action NeedsResetLocked(string reason)
    {
        _lastError = reason;
        _status |= VIRTIO_CONFIG_S_NEEDS_RESET;
        return _interrupt.SignalConfigChange;
    }

    /// <summary>Status 0: every register back to its reset value, queues forgotten, then the device resets.</summary>
    private Action ResetLocked()
    {
        Volatile.Write(ref _activeQueues, null);
        _status = 0;
        _deviceFeatureSelect = _driverFeatureSelect = 0;
        _driverFeatures = 0;
        _msixConfig = VIRTIO_MSI_NO_VECTOR;
        _queueSelect = 0;
        foreach (var queue in _queues)
            queue.Reset();
        return () =>
        {
            ClearIsr();
            _device.Reset();
        };
    }
}
