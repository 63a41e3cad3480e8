using MiniVmm.Virtio.Queue;

namespace MiniVmm.Virtio;

/// <summary>
/// A virtio device model, independent of the transport (virtio-pci today). The transport owns
/// feature negotiation, status and queue setup; the device sees only validated queues.
/// Threading: the transport calls <see cref="Activate"/>, <see cref="Reset"/> and the config accessors
/// from vCPU threads and <see cref="QueueNotify"/> from the device event loop; implementations say
/// which lock guards what.
/// </summary>
public interface IVirtioDevice
{
    /// <summary>Virtio device ID (spec 5: 16 = GPU).</summary>
    uint DeviceType { get; }

    /// <summary>Device-specific feature bits the device offers; the transport adds VIRTIO_F_VERSION_1 etc.</summary>
    ulong DeviceFeatures { get; }

    /// <summary>Maximum size of each virtqueue, in queue-index order (power of two, &lt;= 32768).</summary>
    IReadOnlyList<ushort> QueueMaxSizes { get; }

    /// <summary>Device-specific configuration space (spec: "Device configuration layout").</summary>
    void ReadConfig(uint offset, Span<byte> data);

    void WriteConfig(uint offset, ReadOnlySpan<byte> data);

    /// <summary>The driver set DRIVER_OK: queues are validated and ready.</summary>
    void Activate(VirtioActivation activation);

    /// <summary>The driver reset the device (status 0): drop all state, forget the queues.</summary>
    void Reset();

    /// <summary>The driver notified queue <paramref name="queueIndex"/> (available buffers to process).</summary>
    void QueueNotify(int queueIndex);
}

/// <summary>What a device gets when the driver activates it.</summary>
public sealed record VirtioActivation(ulong NegotiatedFeatures, IReadOnlyList<Virtqueue?> Queues, IVirtioInterrupt Interrupt);

/// <summary>How a device tells the driver something happened (MSI-X vector or INTx + ISR, the transport decides).</summary>
public interface IVirtioInterrupt
{
    /// <summary>Used buffers were added to <paramref name="queueIndex"/> (call after the used index is published).</summary>
    void SignalQueue(int queueIndex);

    /// <summary>The device configuration changed (sets ISR bit 1 / fires the config vector).</summary>
    void SignalConfigChange();

    /// <summary>The device hit an unrecoverable driver error: sets DEVICE_NEEDS_RESET and signals a config change.</summary>
    void SignalNeedsReset(string reason);
}
