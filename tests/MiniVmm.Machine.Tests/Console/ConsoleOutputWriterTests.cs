using MiniVmm.Machine.Console;

namespace MiniVmm.Machine.Tests.Console;

public sealed class ConsoleOutputWriterTests
{
    /// <summary>Counts write calls and can be made slow or broken.</summary>
    private sealed class CountingStream(int delayMs = 0, bool broken = false) : MemoryStream
    {
        public int WriteCalls { get; private set; }

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (broken)
                throw new IOException("EPIPE");
            if (delayMs > 0)
                Thread.Sleep(delayMs);
            WriteCalls++;
            base.Write(buffer, offset, count);
        }
    }

    [Fact]
    public void SingleByteWritesArriveInOrderInFewerCalls()
    {
        var stream = new CountingStream(delayMs: 1);
        var expected = Enumerable.Range(0, 20_000).Select(i => (byte)i).ToArray();
        using (var writer = new ConsoleOutputWriter(stream, ownsStream: false))
        {
            foreach (byte b in expected)
                writer.Write([b]);
            writer.Flush();
            Assert.Equal(expected, stream.ToArray());
        }
        Assert.True(stream.WriteCalls < expected.Length / 10, $"{stream.WriteCalls} writes for {expected.Length} bytes");
    }

    [Fact]
    public void MoreThanTheBufferWaitsForTheStreamAndLosesNothing()
    {
        var stream = new CountingStream(delayMs: 5);
        var expected = Enumerable.Range(0, ConsoleOutputWriter.BufferSize * 3 + 17).Select(i => (byte)(i * 7)).ToArray();
        using var writer = new ConsoleOutputWriter(stream, ownsStream: false);
        for (int i = 0; i < expected.Length; i += 1000)
            writer.Write(expected.AsSpan(i, Math.Min(1000, expected.Length - i)));
        writer.Flush();
        Assert.Equal(expected, stream.ToArray());
    }

    [Fact]
    public void DisposeWritesWhatIsPending()
    {
        var stream = new CountingStream(delayMs: 2);
        var writer = new ConsoleOutputWriter(stream, ownsStream: false);
        for (int i = 0; i < 100; i++)
            writer.Write("line\n"u8);
        writer.Dispose();
        Assert.Equal(500, stream.ToArray().Length);
        writer.Write("after\n"u8); // dropped, not thrown
    }

    [Fact]
    public void ABrokenStreamIsReportedAndLaterOutputDiscarded()
    {
        using var writer = new ConsoleOutputWriter(new CountingStream(broken: true), ownsStream: true);
        writer.Write("x"u8);
        writer.Flush();
        Assert.IsType<IOException>(writer.Error);
        for (int i = 0; i < ConsoleOutputWriter.BufferSize * 2; i += 4096)
            writer.Write(new byte[4096]); // must not block on a buffer nobody drains
    }
}
