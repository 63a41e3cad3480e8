using MiniVmm.Pci;
using static MiniVmm.Virtio.Transport.VirtioPciConstants;

namespace MiniVmm.Virtio.Transport;

// Device to driver: used-buffer and configuration-change notifications (virtio 1.2 §4.1.5.3-4). With
// MSI-X enabled they go to the vector the driver chose; otherwise they set an ISR bit and assert INTx,
// which stays asserted until the driver reads the ISR (read-to-clear, §4.1.4.5).
public sealed partial class VirtioPciDevice
{
    private readonly Lock _isrLock = new();
    // Guarded by _isrLock, together with the INTx level it implies.
    private byte _isr;

    /// <summary>The ISR value without clearing it (tests, diagnostics).</summary>
    public byte PeekIsr()
    {
        lock (_isrLock)
            return _isr;
    }

    private byte ReadIsrAndClear()
    {
        lock (_isrLock)
        {
            byte value = _isr;
            if (value != 0)
                SetIsrLocked(0);
            return value;
        }
    }

    private void ClearIsr()
    {
        lock (_isrLock)
            SetIsrLocked(0);
    }

    private void RaiseIsr(byte bits, bool assertIntx)
    {
        lock (_isrLock)
        {
            _isr |= bits;
            if (assertIntx)
                SetIntxLocked(true);
        }
    }

    private void SetIsrLocked(byte value)
    {
        _isr = value;
        if (value == 0)
            SetIntxLocked(false);
    }

    private void SetIntxLocked(bool asserted)
    {
        if (_intx is not { } line)
            return;
        // Command bit 10 gates the pin, not the ISR (PCI 3.0 §6.2.2).
        bool disabled = (Config.ReadWord(PciConfigSpace.PCI_COMMAND) & PciConfigSpace.PCI_COMMAND_INTX_DISABLE) != 0;
        line.SetLevel(asserted && !disabled);
        Config.SetInterruptStatus(asserted);
    }

    private void SignalQueue(int queue)
    {
        ushort vector;
        lock (_lock)
        {
            if (_activeQueues is null || (uint)queue >= (uint)_queues.Length)
                return;
            vector = _queues[queue].MsixVector;
        }
        if (!Deliver(vector))
            RaiseIsr(VIRTIO_PCI_ISR_QUEUE, assertIntx: true);
    }

    private void SignalConfigChange()
    {
        ushort vector;
        lock (_lock)
        {
            // The driver re-reads config until the generation is stable (§4.1.4.3.1), so every change bumps it.
            _configGeneration++;
            vector = _msixConfig;
        }
        // The config bit is set whichever way the notification goes (§4.1.4.5.1).
        bool viaMsix = Deliver(vector);
        RaiseIsr(VIRTIO_PCI_ISR_CONFIG, assertIntx: !viaMsix);
    }

    /// <summary>MSI-X delivery; false when MSI-X is off (use INTx). With MSI-X on and NO_VECTOR, nothing is sent.</summary>
    private bool Deliver(ushort vector) =>
        vector == VIRTIO_MSI_NO_VECTOR ? _msix.Enabled : _msix.Notify(vector);

    private void SignalNeedsReset(string reason)
    {
        lock (_lock)
        {
            _lastError = reason;
            _status |= VIRTIO_CONFIG_S_NEEDS_RESET;
        }
        SignalConfigChange();
    }

    /// <summary>The <see cref="IVirtioInterrupt"/> handed to the device at activation.</summary>
    private sealed class InterruptSink(VirtioPciDevice transport) : IVirtioInterrupt
    {
        public void SignalQueue(int queueIndex) => transport.SignalQueue(queueIndex);

        public void SignalConfigChange() => transport.SignalConfigChange();

        public void SignalNeedsReset(string reason) => transport.SignalNeedsReset(reason);
    }
}
