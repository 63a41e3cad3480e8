using MiniVmm.Machine.Bus;

namespace MiniVmm.Machine.Devices;

/// <summary>
/// A 16550A UART register model (register constants in Serial16550.Registers.cs). It does no I/O: bytes
/// the guest transmits go to an <see cref="ISerialOutput"/>, bytes for the guest arrive through
/// <see cref="EnqueueInput"/> (a break through <see cref="EnqueueBreak"/>) from the console thread,
/// and the interrupt is a level on an <see cref="IInterruptLine"/> (ISA IRQ 4 for COM1, KVM_IRQ_LINE
/// on GSI 4).
/// <para>
/// Simplifications, all invisible to Linux's 8250 driver: transmission is instantaneous (LSR.THRE and
/// TEMT are always set), the receive interrupt fires as soon as one byte is queued (as if the FIFO
/// trigger level were 1, so there is no character-timeout interrupt), the FIFO is always 64 bytes deep
/// whatever FCR says (FCR only changes what IIR reports), line settings and the divisor are stored but
/// not acted on, and modem-status interrupts are never raised.
/// </para>
/// </summary>
public sealed partial class Serial16550 : IBusDevice
{
    private readonly IInterruptLine _irq;
    private readonly ISerialOutput _output;

    // _lock guards every field below: vCPU threads access registers, the console thread enqueues input.
    private readonly Lock _lock = new();
    private byte _ier;
    private byte _lcr = ResetLcr;
    private byte _mcr = ResetMcr;
    private byte _scr;
    private byte _dll = ResetDll;
    private byte _dlm;
    private bool _fifoEnabled;
    private bool _overrun;          // LSR.OE: a byte arrived with the FIFO full; cleared by reading LSR.
    private bool _thrEmptyPending;  // THRE interrupt latched; cleared by an IIR read that reports it.
    private readonly byte[] _rxFifo = new byte[RxFifoSize];
    // Per FIFO slot: the byte is a break (a 0 with LSR.BI, as a real 16550 stores a break in the FIFO).
    // BI shows while that byte is at the head and clears on the LSR read that reports it.
    private readonly bool[] _rxBreak = new bool[RxFifoSize];
    private int _rxHead;            // index of the oldest received byte
    private int _rxCount;
    private bool _irqAsserted;      // the level last given to _irq, so unchanged levels cost no ioctl

    public Serial16550(IInterruptLine irq, ISerialOutput output)
    {
        ArgumentNullException.ThrowIfNull(irq);
        ArgumentNullException.ThrowIfNull(output);
        _irq = irq;
        _output = output;
    }

    /// <summary>Free space in the receive FIFO; the console waits for room instead of overrunning it.</summary>
    public int InputSpace
    {
        get
        {
            lock (_lock)
                return RxFifoSize - _rxCount;
        }
    }

    /// <summary>
    /// Queues bytes for the guest (thread-safe). Bytes that do not fit are dropped and set LSR.OE, as a
    /// real UART overruns. Returns how many bytes were queued.
    /// </summary>
    public int EnqueueInput(ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            int accepted = 0;
            foreach (byte value in data)
                accepted += PushRxLocked(value) ? 1 : 0;
            UpdateInterruptLocked();
            return accepted;
        }
    }

    /// <summary>
    /// Receives a break (the line held at space for a character time and more): a 0 byte in the FIFO that
    /// reports LSR.BI and a line-status interrupt when it reaches the head, which Linux's 8250 driver turns
    /// into uart_handle_break (the magic SysRq key on a serial console). Thread-safe; false, with LSR.OE,
    /// when the FIFO is full.
    /// </summary>
    public bool EnqueueBreak()
    {
        lock (_lock)
        {
            bool accepted = PushRxLocked(0, isBreak: true);
            UpdateInterruptLocked();
            return accepted;
        }
    }

    public void Read(ulong offset, Span<byte> data)
    {
        // A wider access reads consecutive registers, as the ISA bus splits it into byte cycles.
        for (int i = 0; i < data.Length; i++)
        {
            lock (_lock)
            {
                data[i] = ReadLocked(offset + (ulong)i);
                UpdateInterruptLocked();
            }
        }
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        for (int i = 0; i < data.Length; i++)
        {
            bool transmit;
            lock (_lock)
            {
                transmit = WriteLocked(offset + (ulong)i, data[i]);
                UpdateInterruptLocked();
            }
            // Outside the lock: the sink may block on a slow terminal, and input must still get in.
            if (transmit)
                _output.Write(data.Slice(i, 1));
        }
    }

    private bool Dlab => (_lcr & UART_LCR_DLAB) != 0;

    private bool Loopback => (_mcr & UART_MCR_LOOP) != 0;

    private byte ReadLocked(ulong offset)
    {
        switch (offset)
        {
            case UART_RX:
                return Dlab ? _dll : PopRxLocked();
            case UART_IER:
                return Dlab ? _dlm : _ier;
            case UART_IIR:
                byte pending = PendingInterruptLocked();
                // Reading IIR while it reports THRE acknowledges that interrupt (datasheet table 4).
                if (pending == UART_IIR_THRI)
                    _thrEmptyPending = false;
                return (byte)(pending | (_fifoEnabled ? UART_IIR_FIFO_ENABLED : 0));
            case UART_LCR:
                return _lcr;
            case UART_MCR:
                return _mcr;
            case UART_LSR:
                byte lsr = UART_LSR_THRE | UART_LSR_TEMT;
                if (_rxCount > 0)
                    lsr |= UART_LSR_DR;
                if (_overrun)
                    lsr |= UART_LSR_OE;
                if (HeadIsBreakLocked)
                    lsr |= UART_LSR_BI;
                // Error bits clear when LSR is read; the break's 0 byte stays for the guest to read.
                _overrun = false;
                _rxBreak[_rxHead] = false;
                return lsr;
            case UART_MSR:
                return Loopback ? LoopbackMsrLocked() : ResetMsr;
            case UART_SCR:
                return _scr;
            default:
                return 0xFF; // only reachable if registered with more than PortCount ports
        }
    }

    /// <summary>Returns true when <paramref name="value"/> is a byte to transmit.</summary>
    private bool WriteLocked(ulong offset, byte value)
    {
        switch (offset)
        {
            case UART_TX:
                if (Dlab)
                {
                    _dll = value;
                    return false;
                }
                // The byte leaves at once, so THR is empty again and THRE is raised after every write.
                _thrEmptyPending = true;
                if (!Loopback)
                    return true;
                PushRxLocked(value);
                return false;
            case UART_IER:
                if (Dlab)
                {
                    _dlm = value;
                    return false;
                }
                // Like QEMU (and a real 16550): enabling THRI while THR is empty raises THRE at once.
                // Linux's startup test expects it ("enabling bad tx status workarounds" otherwise).
                bool enablingThri = (value & UART_IER_THRI) != 0 && (_ier & UART_IER_THRI) == 0;
                _ier = (byte)(value & UART_IER_MASK);
                if (enablingThri)
                    _thrEmptyPending = true;
                return false;
            case UART_FCR:
                bool enable = (value & UART_FCR_ENABLE_FIFO) != 0;
                // Switching the FIFOs on or off, or asking to, empties the receiver.
                if ((value & UART_FCR_CLEAR_RCVR) != 0 || enable != _fifoEnabled)
                    _rxCount = 0;
                _fifoEnabled = enable;
                return false;
            case UART_LCR:
                _lcr = value;
                return false;
            case UART_MCR:
                _mcr = (byte)(value & UART_MCR_MASK);
                return false;
            case UART_SCR:
                _scr = value;
                return false;
            default:
                return false; // LSR and MSR writes are factory-test features; ignored
        }
    }

    private bool HeadIsBreakLocked => _rxCount > 0 && _rxBreak[_rxHead];

    private bool PushRxLocked(byte value, bool isBreak = false)
    {
        if (_rxCount == RxFifoSize)
        {
            _overrun = true;
            return false;
        }
        int slot = (_rxHead + _rxCount) % RxFifoSize;
        _rxFifo[slot] = value;
        _rxBreak[slot] = isBreak;
        _rxCount++;
        return true;
    }

    private byte PopRxLocked()
    {
        if (_rxCount == 0)
            return 0;
        byte value = _rxFifo[_rxHead];
        _rxHead = (_rxHead + 1) % RxFifoSize;
        _rxCount--;
        return value;
    }

    private byte LoopbackMsrLocked()
    {
        byte msr = 0;
        if ((_mcr & UART_MCR_RTS) != 0)
            msr |= UART_MSR_CTS;
        if ((_mcr & UART_MCR_DTR) != 0)
            msr |= UART_MSR_DSR;
        if ((_mcr & UART_MCR_OUT1) != 0)
            msr |= UART_MSR_RI;
        if ((_mcr & UART_MCR_OUT2) != 0)
            msr |= UART_MSR_DCD;
        return msr;
    }

    // Priority order of the datasheet: line status, received data, THR empty (modem status never fires).
    private byte PendingInterruptLocked()
    {
        if ((_ier & UART_IER_RLSI) != 0 && (_overrun || HeadIsBreakLocked))
            return UART_IIR_RLSI;
        if ((_ier & UART_IER_RDI) != 0 && _rxCount > 0)
            return UART_IIR_RDI;
        if ((_ier & UART_IER_THRI) != 0 && _thrEmptyPending)
            return UART_IIR_THRI;
        return UART_IIR_NO_INT;
    }

    /// <summary>
    /// Recomputes the interrupt level after every access. Called under the lock so that two threads can
    /// never deliver their levels to KVM in the opposite order from the state changes that produced them.
    /// </summary>
    private void UpdateInterruptLocked()
    {
        bool asserted = PendingInterruptLocked() != UART_IIR_NO_INT;
        if (asserted == _irqAsserted)
            return;
        _irqAsserted = asserted;
        _irq.SetLevel(asserted);
    }
}
