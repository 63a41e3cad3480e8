namespace MiniVmm.Sys.Tests;

/// <summary>SCM_RIGHTS through a socketpair and the receiver's fd policy.</summary>
public sealed class UnixSocketTests
{
    [Fact]
    public void FdsArriveInOrderAsTheSameFiles()
    {
        var (first, second) = UnixSocket.CreatePair();
        using var sender = first;
        using var receiver = second;
        using var one = new EventFd(nonBlocking: true);
        using var two = new EventFd(nonBlocking: true);
        Assert.Equal(2, sender.Send("hi"u8, [one.Value, two.Value], out _));

        var sink = new Sink(capacity: 2);
        Assert.Equal(2, receiver.Receive(new byte[8], sink, out _, out var loss));
        Assert.Equal(FdLoss.None, loss);
        Assert.Equal(2, sink.Kept.Count);
        two.Wake(); // the received fds share the eventfds' counters, so only the second one is readable
        Assert.Equal(0, Poll.Wait(sink.Kept[0].Value, Poll.In, 0));
        Assert.Equal(1, Poll.Wait(sink.Kept[1].Value, Poll.In, 0));
        sink.Kept.ForEach(fd => fd.Dispose());
    }

    [Fact]
    public void FdsTheSinkRefusesAreReportedAsLost()
    {
        var (first, second) = UnixSocket.CreatePair();
        using var sender = first;
        using var receiver = second;
        using var one = new EventFd(nonBlocking: true);
        Assert.Equal(1, sender.Send("x"u8, [one.Value, one.Value, one.Value], out _));

        var sink = new Sink(capacity: 1);
        Assert.Equal(1, receiver.Receive(new byte[8], sink, out _, out var loss));
        Assert.Equal(FdLoss.TooManyFds, loss);
        Assert.Single(sink.Kept);
        Assert.Equal(2, sink.Refused);
        sink.Kept[0].Dispose();
    }

    [Fact]
    public void AMissingSocketIsAnErrnoExceptionNamingThePath()
    {
        var path = Path.Combine(Path.GetTempPath(), "minivmm-no-such-socket-" + Environment.ProcessId);
        var error = Assert.Throws<ErrnoException>(() => UnixSocket.Connect(path));
        Assert.Equal(Errno.ENOENT, error.Errno);
        Assert.Equal("connect to " + path, error.Operation);
    }

    [Fact]
    public void AListenerAcceptsAConnectedClient()
    {
        var path = Path.Combine(Path.GetTempPath(), "minivmm-listen-" + Environment.ProcessId);
        using var listener = UnixSocket.Listen(path);
        try
        {
            Assert.Null(UnixSocket.Accept(listener)); // nobody yet
            using var client = UnixSocket.Connect(path);
            Assert.True(Poll.WaitReadable(listener, 1000));
            using var accepted = UnixSocket.Accept(listener)!;
            UnixSocket.SendAll(accepted, "hello"u8, [], TimeSpan.FromSeconds(1));
            Assert.True(Poll.WaitReadable(client.Handle, 1000));
            var bytes = new byte[8];
            Assert.Equal(5, client.Receive(bytes, new Sink(0), out _, out _));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Keeps up to <c>capacity</c> fds, closes the rest.</summary>
    private sealed class Sink(int capacity) : IFdSink
    {
        public List<Fd> Kept { get; } = [];
        public int Refused { get; private set; }

        public bool TryAdd(Fd fd)
        {
            if (Kept.Count < capacity)
            {
                Kept.Add(fd);
                return true;
            }
            fd.Dispose();
            Refused++;
            return false;
        }
    }
}
