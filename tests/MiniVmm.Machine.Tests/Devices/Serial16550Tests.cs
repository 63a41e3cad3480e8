using MiniVmm.Machine.Devices;
using static MiniVmm.Machine.Devices.Serial16550;

namespace MiniVmm.Machine.Tests.Devices;

public sealed class Serial16550Tests
{
    private readonly FakeInterruptLine _irq = new();
    private readonly RecordingOutput _output = new();
    private readonly Serial16550 _uart;

    public Serial16550Tests() => _uart = new Serial16550(_irq, _output);

    private byte Read(int offset) => _uart.ReadByte((ulong)offset);

    private void Write(int offset, byte value) => _uart.WriteByte((ulong)offset, value);

    [Theory]
    [InlineData(UART_IER, 0x00)]
    [InlineData(UART_IIR, 0x01)]
    [InlineData(UART_LCR, 0x03)]
    [InlineData(UART_MCR, 0x08)]
    [InlineData(UART_LSR, 0x60)]
    [InlineData(UART_MSR, 0xB0)]
    [InlineData(UART_SCR, 0x00)]
    [InlineData(UART_RX, 0x00)]
    public void ResetValues(int offset, byte expected) => Assert.Equal(expected, Read(offset));

    [Fact]
    public void ResetDivisorIs9600Baud()
    {
        Write(UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN8);
        Assert.Equal(0x0C, Read(UART_DLL));
        Assert.Equal(0x00, Read(UART_DLM));
    }

    [Fact]
    public void FifoEnableShowsInIir()
    {
        Write(UART_FCR, UART_FCR_ENABLE_FIFO);
        Assert.Equal(0xC1, Read(UART_IIR));
        Write(UART_FCR, 0);
        Assert.Equal(0x01, Read(UART_IIR));
    }

    [Fact]
    public void DivisorLatchIsSeparateFromRbrAndIer()
    {
        Write(UART_IER, UART_IER_RDI);
        Write(UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN8);
        Write(UART_DLL, 0x01);
        Write(UART_DLM, 0x02);
        Assert.Equal(0x01, Read(UART_DLL));
        Assert.Equal(0x02, Read(UART_DLM));
        Assert.Empty(_output.Bytes); // a DLL write is not a transmitted byte
        Write(UART_LCR, UART_LCR_WLEN8);
        Assert.Equal(UART_IER_RDI, Read(UART_IER));
        Write(UART_LCR, UART_LCR_DLAB);
        Assert.Equal(0x01, Read(UART_DLL));
        Assert.Equal(0x02, Read(UART_DLM));
    }

    [Fact]
    public void LcrMcrAndScratchReadBack()
    {
        Write(UART_LCR, 0x1B);
        Write(UART_MCR, 0xFF);
        Write(UART_SCR, 0xA5);
        Assert.Equal(0x1B, Read(UART_LCR));
        Assert.Equal(0x1F, Read(UART_MCR)); // bits 5-7 do not exist on a 16550A
        Assert.Equal(0xA5, Read(UART_SCR));
    }

    [Fact]
    public void IerKeepsOnlyTheFourDefinedBits()
    {
        Write(UART_IER, 0xFF);
        Assert.Equal(0x0F, Read(UART_IER));
    }

    [Fact]
    public void ThrWritesGoToTheOutputInOrder()
    {
        foreach (byte b in "hi\r\n"u8)
            Write(UART_TX, b);
        Assert.Equal("hi\r\n"u8.ToArray(), _output.Bytes);
        Assert.Equal(UART_LSR_THRE | UART_LSR_TEMT, Read(UART_LSR));
    }

    [Fact]
    public void ThrWriteWithoutThriRaisesNothing()
    {
        Write(UART_TX, (byte)'a');
        Assert.Empty(_irq.Levels);
        Assert.Equal(0x01, Read(UART_IIR));
    }

    [Fact]
    public void ReceivedBytesComeOutInOrderAndDrClears()
    {
        Assert.Equal(3, _uart.EnqueueInput("abc"u8));
        Assert.Equal(UART_LSR_DR | UART_LSR_THRE | UART_LSR_TEMT, Read(UART_LSR));
        Assert.Equal((byte)'a', Read(UART_RX));
        Assert.Equal((byte)'b', Read(UART_RX));
        Assert.Equal(UART_LSR_DR, Read(UART_LSR) & UART_LSR_DR);
        Assert.Equal((byte)'c', Read(UART_RX));
        Assert.Equal(0, Read(UART_LSR) & UART_LSR_DR);
        Assert.Equal(RxFifoSize, _uart.InputSpace);
    }

    [Fact]
    public void FullFifoOverrunsAndOeClearsOnLsrRead()
    {
        var data = Enumerable.Range(0, RxFifoSize + 3).Select(i => (byte)i).ToArray();
        Assert.Equal(RxFifoSize, _uart.EnqueueInput(data));
        Assert.Equal(0, _uart.InputSpace);
        Assert.Equal(UART_LSR_OE | UART_LSR_DR, Read(UART_LSR) & (UART_LSR_OE | UART_LSR_DR));
        Assert.Equal(0, Read(UART_LSR) & UART_LSR_OE);
        // The FIFO kept the first 64 bytes; the late ones were lost.
        for (int i = 0; i < RxFifoSize; i++)
            Assert.Equal((byte)i, Read(UART_RX));
        Assert.Equal(0, Read(UART_LSR) & UART_LSR_DR);
    }

    [Fact]
    public void FifoWrapsAround()
    {
        for (int round = 0; round < 5; round++)
        {
            var data = Enumerable.Range(0, 50).Select(i => (byte)(i + round)).ToArray();
            Assert.Equal(50, _uart.EnqueueInput(data));
            foreach (byte expected in data)
                Assert.Equal(expected, Read(UART_RX));
        }
    }

    [Fact]
    public void FcrClearReceiverEmptiesFifo()
    {
        Write(UART_FCR, UART_FCR_ENABLE_FIFO);
        _uart.EnqueueInput("xyz"u8);
        Write(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
        Assert.Equal(0, Read(UART_LSR) & UART_LSR_DR);
    }

    [Fact]
    public void ReceivedDataRaisesTheLineUntilDrained()
    {
        Write(UART_IER, UART_IER_RDI);
        Assert.Empty(_irq.Levels);
        _uart.EnqueueInput("ab"u8);
        Assert.Equal([true], _irq.Levels);
        Assert.Equal(UART_IIR_RDI, Read(UART_IIR));
        Assert.Equal(UART_IIR_RDI, Read(UART_IIR)); // reading IIR does not acknowledge RDI
        Read(UART_RX);
        Assert.True(_irq.Asserted);
        Read(UART_RX);
        Assert.Equal([true, false], _irq.Levels);
        Assert.Equal(UART_IIR_NO_INT, Read(UART_IIR));
    }

    [Fact]
    public void InputWithRdiDisabledRaisesNothingUntilEnabled()
    {
        _uart.EnqueueInput("a"u8);
        Assert.Empty(_irq.Levels);
        Write(UART_IER, UART_IER_RDI);
        Assert.Equal([true], _irq.Levels);
        Write(UART_IER, 0);
        Assert.Equal([true, false], _irq.Levels);
    }

    [Fact]
    public void EnablingThriRaisesThreAtOnceAndIirReadClearsIt()
    {
        Write(UART_IER, UART_IER_THRI);
        Assert.Equal([true], _irq.Levels);
        Assert.Equal(UART_IIR_THRI, Read(UART_IIR));
        Assert.Equal([true, false], _irq.Levels);
        Assert.Equal(UART_IIR_NO_INT, Read(UART_IIR));
        // Rewriting IER with THRI already set does not re-raise it.
        Write(UART_IER, UART_IER_THRI);
        Assert.Equal([true, false], _irq.Levels);
    }

    [Fact]
    public void EveryThrWriteRaisesThreAgain()
    {
        Write(UART_IER, UART_IER_THRI);
        Read(UART_IIR);
        Write(UART_TX, (byte)'a');
        Assert.Equal([true, false, true], _irq.Levels);
        Assert.Equal(UART_IIR_THRI, Read(UART_IIR));
        Write(UART_TX, (byte)'b');
        Write(UART_TX, (byte)'c'); // still pending: no new edge, the level just stays up
        Assert.Equal([true, false, true, false, true], _irq.Levels);
        Assert.Equal(UART_IIR_THRI, Read(UART_IIR));
        Assert.False(_irq.Asserted);
    }

    [Fact]
    public void DisablingThriLowersTheLine()
    {
        Write(UART_IER, UART_IER_THRI);
        Write(UART_IER, 0);
        Assert.Equal([true, false], _irq.Levels);
    }

    [Fact]
    public void ReceivedDataHasPriorityOverThre()
    {
        Write(UART_IER, UART_IER_THRI | UART_IER_RDI);
        _uart.EnqueueInput("q"u8);
        Assert.Equal(UART_IIR_RDI, Read(UART_IIR));
        Assert.Equal(UART_IIR_RDI, Read(UART_IIR)); // the THRE underneath was not acknowledged
        Read(UART_RX);
        Assert.Equal(UART_IIR_THRI, Read(UART_IIR));
        Assert.Equal(UART_IIR_NO_INT, Read(UART_IIR));
        Assert.Equal([true, false], _irq.Levels);
    }

    [Fact]
    public void OverrunRaisesLineStatusInterruptFirst()
    {
        Write(UART_IER, UART_IER_RLSI | UART_IER_RDI);
        _uart.EnqueueInput(new byte[RxFifoSize + 1]);
        Assert.Equal(UART_IIR_RLSI, Read(UART_IIR));
        Read(UART_LSR);
        Assert.Equal(UART_IIR_RDI, Read(UART_IIR));
    }

    [Fact]
    public void BreakIsAZeroByteWithBiAndALineStatusInterrupt()
    {
        Write(UART_IER, UART_IER_RLSI | UART_IER_RDI); // what serial8250_do_startup enables
        Assert.True(_uart.EnqueueBreak());
        Assert.Equal([true], _irq.Levels);
        Assert.Equal(UART_IIR_RLSI, Read(UART_IIR));
        Assert.Equal(UART_LSR_BI | UART_LSR_DR | UART_LSR_THRE | UART_LSR_TEMT, Read(UART_LSR));
        // The LSR read cleared BI (error bits are reported once); the 0 byte is still there.
        Assert.Equal(UART_LSR_DR, Read(UART_LSR) & (UART_LSR_BI | UART_LSR_DR));
        Assert.Equal(UART_IIR_RDI, Read(UART_IIR));
        Assert.Equal(0, Read(UART_RX));
        Assert.Equal(UART_IIR_NO_INT, Read(UART_IIR));
        Assert.Equal([true, false], _irq.Levels);
    }

    [Fact]
    public void BreakShowsOnlyWhenItReachesTheHeadOfTheFifo()
    {
        Write(UART_IER, UART_IER_RLSI | UART_IER_RDI);
        _uart.EnqueueInput("ab"u8);
        Assert.True(_uart.EnqueueBreak());
        _uart.EnqueueInput("h"u8);
        var seen = new List<(byte Lsr, byte Data)>();
        // serial8250_rx_chars: read LSR, then RBR while LSR says DR.
        for (byte lsr = Read(UART_LSR); (lsr & UART_LSR_DR) != 0; lsr = Read(UART_LSR))
            seen.Add(((byte)(lsr & UART_LSR_BI), Read(UART_RX)));
        Assert.Equal([(0, (byte)'a'), (0, (byte)'b'), (UART_LSR_BI, 0), (0, (byte)'h')], seen);
        Assert.False(_irq.Asserted);
    }

    [Fact]
    public void BreakWithLineStatusInterruptsOffRaisesOnlyReceivedData()
    {
        Write(UART_IER, UART_IER_RDI);
        _uart.EnqueueBreak();
        Assert.Equal(UART_IIR_RDI, Read(UART_IIR));
        Assert.Equal(UART_LSR_BI, Read(UART_LSR) & UART_LSR_BI);
    }

    [Fact]
    public void BreakIntoAFullFifoIsLostAsAnOverrun()
    {
        _uart.EnqueueInput(new byte[RxFifoSize]);
        Assert.False(_uart.EnqueueBreak());
        Assert.Equal(UART_LSR_OE, Read(UART_LSR) & (UART_LSR_OE | UART_LSR_BI));
        for (int i = 0; i < RxFifoSize; i++)
            Read(UART_RX);
        Assert.Equal(0, Read(UART_LSR) & (UART_LSR_BI | UART_LSR_DR));
    }

    [Fact]
    public void ClearingTheReceiverDropsAPendingBreak()
    {
        Write(UART_FCR, UART_FCR_ENABLE_FIFO);
        Write(UART_IER, UART_IER_RLSI);
        _uart.EnqueueBreak();
        Write(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
        Assert.Equal(0, Read(UART_LSR) & (UART_LSR_BI | UART_LSR_DR));
        Assert.Equal([true, false], _irq.Levels);
        _uart.EnqueueInput("k"u8); // a later byte in the same slot is a plain byte
        Assert.Equal(UART_LSR_DR, Read(UART_LSR) & (UART_LSR_BI | UART_LSR_DR));
    }

    [Fact]
    public void LoopbackSendsThrToRxAndMirrorsMcrInMsr()
    {
        Write(UART_MCR, UART_MCR_LOOP);
        Assert.Equal(0x00, Read(UART_MSR));
        Write(UART_MCR, UART_MCR_LOOP | UART_MCR_RTS | UART_MCR_OUT2);
        Assert.Equal(UART_MSR_CTS | UART_MSR_DCD, Read(UART_MSR));
        Write(UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_OUT1);
        Assert.Equal(UART_MSR_DSR | UART_MSR_RI, Read(UART_MSR));

        Write(UART_TX, 0x5A);
        Assert.Empty(_output.Bytes);
        Assert.Equal(UART_LSR_DR, Read(UART_LSR) & UART_LSR_DR);
        Assert.Equal(0x5A, Read(UART_RX));

        Write(UART_MCR, UART_MCR_OUT2);
        Assert.Equal(0xB0, Read(UART_MSR));
        Write(UART_TX, 0x41);
        Assert.Equal([0x41], _output.Bytes);
    }

    [Fact]
    public void WideAccessesTouchConsecutiveRegisters()
    {
        _uart.Write(UART_LCR, [0x03, 0x0B]); // LCR then MCR
        Span<byte> data = stackalloc byte[2];
        _uart.Read(UART_LCR, data);
        Assert.Equal(0x03, data[0]);
        Assert.Equal(0x0B, data[1]);
    }

    [Fact]
    public void OffsetsBeyondTheUartReadAllOnes() => Assert.Equal(0xFF, Read(PortCount));

    [Fact]
    public void ConcurrentInputWhileTheGuestReadsKeepsOrderAndLosesNothing()
    {
        const int total = 20_000;
        var received = new List<byte>(total);
        var producer = new Thread(() =>
        {
            int sent = 0;
            while (sent < total)
            {
                byte value = (byte)(sent % 251);
                if (_uart.InputSpace == 0)
                {
                    Thread.Yield();
                    continue;
                }
                sent += _uart.EnqueueInput([value]);
            }
        });
        producer.Start();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (received.Count < total && DateTime.UtcNow < deadline)
        {
            if ((Read(UART_LSR) & UART_LSR_DR) != 0)
                received.Add(Read(UART_RX));
        }
        producer.Join();
        Assert.Equal(total, received.Count);
        for (int i = 0; i < total; i++)
            Assert.Equal((byte)(i % 251), received[i]);
        Assert.Equal(0, Read(UART_LSR) & UART_LSR_OE);
    }
}
