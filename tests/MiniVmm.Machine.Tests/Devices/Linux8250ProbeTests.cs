using MiniVmm.Machine.Devices;
using static MiniVmm.Machine.Devices.Serial16550;

namespace MiniVmm.Machine.Tests.Devices;

/// <summary>
/// The register sequences Linux's 8250 driver (drivers/tty/serial/8250/8250_port.c, autoconfig and
/// serial8250_do_startup) performs, replayed against the model, with the answers it needs to call the
/// port a working 16550A with a FIFO and a THRE interrupt that behaves.
/// </summary>
public sealed class Linux8250ProbeTests
{
    private readonly FakeInterruptLine _irq = new();
    private readonly Serial16550 _uart;

    public Linux8250ProbeTests() => _uart = new Serial16550(_irq, new RecordingOutput());

    private byte In(int offset) => _uart.ReadByte((ulong)offset);

    private void Out(int offset, byte value) => _uart.WriteByte((ulong)offset, value);

    [Fact]
    public void IerProbeReadsBackWhatWasWritten()
    {
        byte saved = In(UART_IER);
        Out(UART_IER, 0);
        byte scratch2 = (byte)(In(UART_IER) & 0x0F);
        Out(UART_IER, 0x0F);
        byte scratch3 = (byte)(In(UART_IER) & 0x0F);
        Out(UART_IER, saved);
        Assert.Equal(0x00, scratch2);
        Assert.Equal(0x0F, scratch3);
    }

    [Fact]
    public void LoopbackTestSeesCtsAndDcd()
    {
        byte savedMcr = In(UART_MCR);
        Out(UART_MCR, UART_MCR_LOOP | 0x0A);
        byte status = (byte)(In(UART_MSR) & 0xF0);
        Out(UART_MCR, savedMcr);
        Assert.Equal(0x90, status);
        Assert.Equal(0x08, In(UART_MCR));
    }

    [Fact]
    public void FifoProbeFindsA16550AAndNothingFancier()
    {
        Out(UART_LCR, 0xBF);        // configuration mode B: EFR (offset 2) on a 16650
        Out(UART_FCR, 0);           // the EFR write lands in FCR on a 16550A
        Out(UART_LCR, 0);
        Out(UART_FCR, UART_FCR_ENABLE_FIFO);
        Assert.Equal(3, In(UART_IIR) >> 6);    // FIFO bits set: a 16550A

        Out(UART_LCR, UART_LCR_DLAB);          // configuration mode A: EFR reads must not be 0
        Assert.NotEqual(0, In(UART_IIR));
        Out(UART_LCR, 0xBF);
        Assert.NotEqual(0, In(UART_IIR));

        Out(UART_LCR, 0);                      // 16750 test: a 64-byte FIFO bit must not stick
        Out(UART_FCR, UART_FCR_ENABLE_FIFO | 0x20);
        int status1 = In(UART_IIR) >> 5;
        Out(UART_FCR, UART_FCR_ENABLE_FIFO);
        Out(UART_LCR, UART_LCR_DLAB);
        Out(UART_FCR, UART_FCR_ENABLE_FIFO | 0x20);
        int status2 = In(UART_IIR) >> 5;
        Out(UART_FCR, UART_FCR_ENABLE_FIFO);
        Out(UART_LCR, 0);
        Assert.False(status1 == 6 && status2 == 7);

        byte ier = In(UART_IER);               // XScale test: IER bit 6 must not stick
        Out(UART_IER, (byte)(ier | 0x40));
        Assert.Equal(0, In(UART_IER) & 0x40);
    }

    [Fact]
    public void ScratchRegisterHoldsAValue()
    {
        Out(UART_SCR, 0xA5);
        Assert.Equal(0xA5, In(UART_SCR));
        Out(UART_SCR, 0x5A);
        Assert.Equal(0x5A, In(UART_SCR));
    }

    [Fact]
    public void StartupThreTestFindsNoBug()
    {
        // serial8250_do_startup: THRE must be reported when THRI is enabled, and again after re-enabling.
        Out(UART_IER, UART_IER_THRI);
        byte iir1 = In(UART_IIR);
        Out(UART_IER, 0);
        Out(UART_IER, UART_IER_THRI);
        byte iir = In(UART_IIR);
        Out(UART_IER, 0);
        Assert.Equal(0, iir1 & UART_IIR_NO_INT);
        Assert.Equal(0, iir & UART_IIR_NO_INT);
        Assert.False(_irq.Asserted);
    }

    [Fact]
    public void TxenTestFindsNoBug()
    {
        // UART_BUG_TXEN: after IER=THRI, "LSR.TEMT && IIR.NO_INT" means a UART that never raises THRE.
        Out(UART_IER, UART_IER_THRI);
        byte lsr = In(UART_LSR);
        byte iir = In(UART_IIR);
        Out(UART_IER, 0);
        Assert.False((lsr & UART_LSR_TEMT) != 0 && (iir & UART_IIR_NO_INT) != 0);
    }
}
