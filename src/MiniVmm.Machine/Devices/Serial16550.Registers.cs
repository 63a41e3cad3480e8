namespace MiniVmm.Machine.Devices;

// Register offsets and bits of the National Semiconductor PC16550D / TI TL16C550 datasheets, with the
// names Linux uses in include/uapi/linux/serial_reg.h so that a reader can check them against both.
public sealed partial class Serial16550
{
    /// <summary>The UART decodes eight consecutive ports.</summary>
    public const int PortCount = 8;

    /// <summary>The legacy PC address and ISA IRQ of COM1 (COM2 0x2F8/3, COM3 0x3E8/4, COM4 0x2E8/3).</summary>
    public const ushort Com1Port = 0x3F8;
    public const int Com1Irq = 4;

    // Offsets. 0 and 1 are the divisor latch while LCR.DLAB is set.
    public const int UART_RX = 0;   // read: receiver buffer (RBR)
    public const int UART_TX = 0;   // write: transmitter holding (THR)
    public const int UART_DLL = 0;  // divisor latch low (DLAB=1)
    public const int UART_IER = 1;  // interrupt enable
    public const int UART_DLM = 1;  // divisor latch high (DLAB=1)
    public const int UART_IIR = 2;  // read: interrupt identification
    public const int UART_FCR = 2;  // write: FIFO control
    public const int UART_LCR = 3;  // line control
    public const int UART_MCR = 4;  // modem control
    public const int UART_LSR = 5;  // line status
    public const int UART_MSR = 6;  // modem status
    public const int UART_SCR = 7;  // scratch

    // IER: which conditions may interrupt. Bits 4-7 are zero on a 16550A, which Linux's autoconfig relies
    // on (it writes 0x0F and expects 0x0F back, and tests bit 6 to spot XScale UARTs).
    public const byte UART_IER_RDI = 0x01;   // received data available
    public const byte UART_IER_THRI = 0x02;  // transmitter holding register empty
    public const byte UART_IER_RLSI = 0x04;  // receiver line status
    public const byte UART_IER_MSI = 0x08;   // modem status
    public const byte UART_IER_MASK = 0x0F;

    // IIR: the highest-priority pending interrupt; bits 6-7 say the FIFOs are enabled.
    public const byte UART_IIR_NO_INT = 0x01;
    public const byte UART_IIR_ID = 0x0E;
    public const byte UART_IIR_MSI = 0x00;
    public const byte UART_IIR_THRI = 0x02;
    public const byte UART_IIR_RDI = 0x04;
    public const byte UART_IIR_RLSI = 0x06;
    public const byte UART_IIR_FIFO_ENABLED = 0xC0;

    // FCR.
    public const byte UART_FCR_ENABLE_FIFO = 0x01;
    public const byte UART_FCR_CLEAR_RCVR = 0x02;
    public const byte UART_FCR_CLEAR_XMIT = 0x04;

    // LCR: bits 0-6 are line settings the model stores but does not act on; bit 7 selects the divisor.
    public const byte UART_LCR_WLEN8 = 0x03;
    public const byte UART_LCR_DLAB = 0x80;

    // MCR. OUT2 gates the IRQ on real PC boards; like most VMMs the model does not gate on it.
    public const byte UART_MCR_DTR = 0x01;
    public const byte UART_MCR_RTS = 0x02;
    public const byte UART_MCR_OUT1 = 0x04;
    public const byte UART_MCR_OUT2 = 0x08;
    public const byte UART_MCR_LOOP = 0x10;
    public const byte UART_MCR_MASK = 0x1F;

    // LSR.
    public const byte UART_LSR_DR = 0x01;    // receiver data ready
    public const byte UART_LSR_OE = 0x02;    // overrun error (a byte arrived with the FIFO full)
    public const byte UART_LSR_BI = 0x10;    // break interrupt
    public const byte UART_LSR_THRE = 0x20;  // transmitter holding register empty
    public const byte UART_LSR_TEMT = 0x40;  // transmitter empty

    // MSR. In loopback the four status bits are wired to the MCR outputs (datasheet, "loopback mode"):
    // CTS <- RTS, DSR <- DTR, RI <- OUT1, DCD <- OUT2.
    public const byte UART_MSR_CTS = 0x10;
    public const byte UART_MSR_DSR = 0x20;
    public const byte UART_MSR_RI = 0x40;
    public const byte UART_MSR_DCD = 0x80;

    /// <summary>Receiver FIFO depth of a 16550A.</summary>
    public const int RxFifoSize = 64;

    // Power-on values: 8N1, OUT2 set as a PC BIOS leaves it, 9600 baud (divisor 12), modem lines up.
    private const byte ResetLcr = UART_LCR_WLEN8;
    private const byte ResetMcr = UART_MCR_OUT2;
    private const byte ResetMsr = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
    private const byte ResetDll = 0x0C;
}
