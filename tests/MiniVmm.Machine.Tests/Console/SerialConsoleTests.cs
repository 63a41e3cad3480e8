using System.IO.Pipes;
using MiniVmm.Machine.Console;
using MiniVmm.Machine.Devices;
using MiniVmm.Machine.Tests.Devices;
using static MiniVmm.Machine.Devices.Serial16550;

namespace MiniVmm.Machine.Tests.Console;

/// <summary>The console on a real pipe fd (not a terminal), as in CI or with input piped in.</summary>
public sealed class SerialConsoleTests : IDisposable
{
    private readonly FakeMachineControl _control = new();
    private readonly MemoryStream _output = new();
    private readonly AnonymousPipeServerStream _pipe = new(PipeDirection.Out);
    private readonly SerialConsole _console;
    private readonly Serial16550 _uart;

    public SerialConsoleTests()
    {
        int readFd = (int)_pipe.ClientSafePipeHandle.DangerousGetHandle();
        _console = new SerialConsole(_control, _output, ownsOutput: false, readFd);
        _uart = new Serial16550(new FakeInterruptLine(), _console);
    }

    public void Dispose()
    {
        _console.Dispose();
        _pipe.Dispose();
        _output.Dispose();
    }

    private void Type(ReadOnlySpan<byte> keys)
    {
        _pipe.Write(keys);
        _pipe.Flush();
    }

    /// <summary>Reads RBR like a guest driver until <paramref name="count"/> bytes came, or 10 s passed.</summary>
    private byte[] GuestReads(int count)
    {
        var received = new List<byte>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (received.Count < count && DateTime.UtcNow < deadline)
        {
            if ((_uart.ReadByte(UART_LSR) & UART_LSR_DR) != 0)
                received.Add(_uart.ReadByte(UART_RX));
            else
                Thread.Sleep(1);
        }
        return [.. received];
    }

    private static bool WaitFor(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition() && DateTime.UtcNow < deadline)
            Thread.Sleep(5);
        return condition();
    }

    [Fact]
    public void APipeIsNotMadeRaw()
    {
        _console.Start(_uart);
        Assert.False(_console.IsRaw);
    }

    [Fact]
    public void KeystrokesReachTheGuestInOrder()
    {
        _console.Start(_uart);
        Type("root\r"u8);
        Assert.Equal("root\r"u8.ToArray(), GuestReads(5));
        Assert.Empty(_control.Requests);
    }

    [Fact]
    public void InputBeyondTheFifoWaitsForTheGuestToRead()
    {
        _console.Start(_uart);
        var keys = Enumerable.Range(0, 1000).Select(i => (byte)(i % 200 + 2)).ToArray(); // no Ctrl-A
        Type(keys);
        Assert.True(WaitFor(() => _uart.InputSpace == 0));
        Assert.Equal(keys, GuestReads(keys.Length));
    }

    [Fact]
    public void CtrlAXStopsTheMachineWithCodeZero()
    {
        _console.Start(_uart);
        Type([(byte)'a', 0x01, (byte)'x', (byte)'b']);
        Assert.True(WaitFor(() => _control.Requests.Count == 1));
        var request = _control.Requests[0];
        Assert.Equal(0, request.ExitCode);
        Assert.Equal("quit from the console (Ctrl-A x)", request.Description);
        Assert.Equal("a"u8.ToArray(), GuestReads(1));
        Assert.Equal(0, _uart.ReadByte(UART_LSR) & UART_LSR_DR);
    }

    [Fact]
    public void CtrlACtrlAReachesTheGuestAsOneByte()
    {
        _console.Start(_uart);
        Type([0x01, 0x01, 0x01, (byte)'c']);
        Assert.Equal([0x01, 0x01, (byte)'c'], GuestReads(3));
    }

    /// <summary>Like <see cref="GuestReads"/>, but a byte that came with LSR.BI reads as -1.</summary>
    private List<int> GuestReadsWithBreaks(int count)
    {
        var received = new List<int>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (received.Count < count && DateTime.UtcNow < deadline)
        {
            byte lsr = _uart.ReadByte(UART_LSR);
            if ((lsr & UART_LSR_DR) == 0)
            {
                Thread.Sleep(1);
                continue;
            }
            byte data = _uart.ReadByte(UART_RX);
            received.Add((lsr & UART_LSR_BI) != 0 ? -1 : data);
        }
        return received;
    }

    [Fact]
    public void CtrlABSendsABreakBetweenTheKeysAroundIt()
    {
        _console.Start(_uart);
        Type([(byte)'a', 0x01, (byte)'b', (byte)'h']);
        Assert.Equal(['a', -1, 'h'], GuestReadsWithBreaks(3));
        Assert.Empty(_control.Requests);
    }

    [Fact]
    public void ABreakTypedWhileTheFifoIsFullWaitsInLine()
    {
        _console.Start(_uart);
        var before = Enumerable.Range(0, RxFifoSize + 10).Select(i => (byte)(i % 26 + 'a')).ToArray();
        Type([.. before, 0x01, (byte)'b', (byte)'!']);
        Assert.True(WaitFor(() => _uart.InputSpace == 0));
        int[] expected = [.. before.Select(b => (int)b), -1, '!'];
        Assert.Equal(expected, GuestReadsWithBreaks(expected.Length));
    }

    [Fact]
    public void CtrlAHListsTheKeysOnTheConsoleNotToTheGuest()
    {
        var matches = new List<string>();
        _console.Watcher.Watch("Ctrl-A", matches.Add);
        _console.Start(_uart);
        Type([0x01, (byte)'h', (byte)'k']);
        Assert.Equal("k"u8.ToArray(), GuestReads(1));
        _console.Flush();
        Assert.Equal(ConsoleEscapeParser.HelpText, System.Text.Encoding.ASCII.GetString(_output.ToArray()));
        Assert.Empty(matches); // --exit-on-output watches the guest's output only
    }

    [Fact]
    public void CtrlASTakesAScreenshotOnEachPress()
    {
        int screenshots = 0;
        _console.Start(_uart, () => Interlocked.Increment(ref screenshots));
        Type([0x01, (byte)'s', (byte)'1', 0x01, (byte)'s', (byte)'2']);
        Assert.Equal("12"u8.ToArray(), GuestReads(2));
        Assert.Equal(2, Volatile.Read(ref screenshots));
    }

    [Fact]
    public void EndOfInputStopsOnlyTheInputAfterDeliveringEverything()
    {
        _console.Start(_uart);
        var keys = Enumerable.Range(0, 300).Select(i => (byte)(i % 100 + 32)).ToArray();
        Type(keys);
        _pipe.Dispose(); // EOF for the reader
        Assert.Equal(keys, GuestReads(keys.Length));
        Assert.Empty(_control.Requests);
    }

    [Fact]
    public void GuestOutputReachesTheStreamAndTheWatcher()
    {
        var panics = new List<string>();
        _console.Watcher.Watch("Kernel panic", panics.Add);
        _console.Start(_uart);
        foreach (byte b in "Kernel panic - not syncing: test\r\n"u8)
            _uart.WriteByte(UART_TX, b);
        _console.Flush();
        Assert.Equal("Kernel panic - not syncing: test\r\n"u8.ToArray(), _output.ToArray());
        Assert.Equal(["Kernel panic - not syncing: test"], panics);
    }

    [Fact]
    public void DisposeWithoutStartIsFine()
    {
        using var console = new SerialConsole(_control, new MemoryStream(), ownsOutput: true, inputFd: -1);
        console.Start(_uart); // no input fd: nothing to start
    }

    [Fact]
    public void StartingTwiceThrows()
    {
        _console.Start(_uart);
        Assert.Throws<InvalidOperationException>(() => _console.Start(_uart));
    }

    [Fact]
    public void FileOutputTargetCreatesTheFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"minivmm-console-{Guid.NewGuid():N}.log");
        try
        {
            using (var console = new SerialConsole(_control, SerialConsole.OpenOutput("file:" + path), ownsOutput: true, inputFd: -1))
                console.Write("boot\n"u8);
            Assert.Equal("boot\n", File.ReadAllText(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("file:")]
    [InlineData("tcp:1234")]
    [InlineData("")]
    public void BadOutputTargetsAreRejected(string target) =>
        Assert.Throws<ArgumentException>(() => SerialConsole.OpenOutput(target));
}
