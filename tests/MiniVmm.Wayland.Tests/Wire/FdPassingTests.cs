using Microsoft.Win32.SafeHandles;
using MiniVmm.Sys;
using MiniVmm.Wayland.Protocol;

namespace MiniVmm.Wayland.Tests.Wire;

/// <summary>fds in SCM_RIGHTS through a real socketpair: same file on the other side, in order, in batches of 28.</summary>
public sealed class FdPassingTests
{
    [Fact]
    public void MemfdArrivesAsTheSameFile()
    {
        var (client, server) = UnixSocket.CreatePair();
        using var connection = new WaylandConnection(client, "socketpair");
        using var serverSocket = server;
        using var memory = SharedMemory.Create("fd-test", 4096);
        "hello"u8.CopyTo(memory.GetSpan(0, 5));

        WlShm.CreatePool(connection.Writer, self: 4, id: 9, fd: memory.Fd, size: 4096);
        Assert.Equal(IoStatus.Done, connection.Flush());
        Assert.Equal(0, connection.Writer.FdCount);

        using var fds = new FdQueue();
        var buffer = new byte[256];
        var received = serverSocket.Receive(buffer, fds, out _, out var fdLoss);
        Assert.Equal(FdLoss.None, fdLoss);
        Assert.True(WireMessage.TryParse(buffer.AsSpan(0, received), out var message, out _));
        var recorder = new PoolRecorder();
        var reader = new WireReader(message.Body, fds);
        Assert.Equal(WireError.None, WlShm.DispatchRequest(recorder, message.ObjectId, message.Opcode, ref reader));

        using var fd = recorder.Fd!;
        Assert.NotEqual(memory.Fd.Value, fd.Value);
        Assert.Equal((9u, 4096), (recorder.Id, recorder.Size));
        var contents = new byte[5];
        using var file = new SafeFileHandle(fd.DangerousGetHandle(), ownsHandle: false);
        Assert.Equal(5, RandomAccess.Read(file, contents, 0));
        Assert.Equal("hello"u8.ToArray(), contents);
    }

    [Fact]
    public void ManyFdsArriveInOrderAtMost28PerMessage()
    {
        const int count = 30;
        var (client, server) = UnixSocket.CreatePair();
        using var connection = new WaylandConnection(client, "socketpair");
        using var serverSocket = server;
        var files = Enumerable.Range(0, count).Select(i => SharedMemory.Create("fd-order", 4096)).ToList();
        try
        {
            for (var i = 0; i < count; i++)
            {
                files[i].GetSpan(0, 1)[0] = (byte)i;
                WlShm.CreatePool(connection.Writer, 4, (uint)(100 + i), files[i].Fd, 4096);
            }
            Assert.Equal(IoStatus.Done, connection.Flush());

            using var fds = new FdQueue();
            var buffer = new byte[64 * 1024];
            var total = 0;
            var first = serverSocket.Receive(buffer, fds, out _, out _);
            // One recvmsg never merges two sendmsg's fds, so the first read shows the first batch alone.
            Assert.Equal(UnixSocket.MaxFdsPerSend, fds.Count);
            total += first;
            while (fds.Count < count)
            {
                var more = serverSocket.Receive(buffer.AsSpan(total), fds, out _, out _);
                Assert.True(more > 0);
                total += more;
            }
            var data = buffer.AsSpan(0, total);
            for (var i = 0; i < count; i++)
            {
                Assert.True(WireMessage.TryParse(data, out var message, out _));
                var recorder = new PoolRecorder();
                var reader = new WireReader(message.Body, fds);
                Assert.Equal(WireError.None, WlShm.DispatchRequest(recorder, message.ObjectId, message.Opcode, ref reader));
                using var fd = recorder.Fd!;
                using var file = new SafeFileHandle(fd.DangerousGetHandle(), ownsHandle: false);
                var first1 = new byte[1];
                RandomAccess.Read(file, first1, 0);
                Assert.Equal(((uint)(100 + i), (byte)i), (recorder.Id, first1[0]));
                data = data[message.Size..];
            }
            Assert.Equal(0, fds.Count);
        }
        finally
        {
            files.ForEach(f => f.Dispose());
        }
    }

    [Fact]
    public void SharedMemoryFailureIsAWaylandExceptionWithErrno()
    {
        var error = Assert.Throws<WaylandException>(() => SharedMemory.Create("fd-bad-size", -1));
        Assert.Equal(Tmds.Linux.LibC.EINVAL, error.Errno);
        Assert.StartsWith("ftruncate of a", error.Message, StringComparison.Ordinal);
        Assert.Contains("EINVAL", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StaticReceiveReadsASocketOwnedElsewhere()
    {
        var (client, server) = UnixSocket.CreatePair();
        using var clientSocket = client;
        using var serverSocket = server;
        var files = Enumerable.Range(0, UnixSocket.MaxFdsPerSend).Select(_ => SharedMemory.Create("fd-static", 4096)).ToList();
        try
        {
            var raw = files.Select(f => f.Fd.Value).ToArray();
            Assert.Equal(3, clientSocket.Send("abc"u8, raw, out _));

            using var fds = new FdQueue();
            var buffer = new byte[16];
            Assert.Equal(3, UnixSocket.Receive(serverSocket.Handle, buffer, fds, out var errno, out var fdLoss));
            Assert.Equal((0, FdLoss.None, UnixSocket.MaxFdsPerSend), (errno, fdLoss, fds.Count));
            Assert.Equal("abc"u8.ToArray(), buffer[..3]);
            Assert.Equal(-1, UnixSocket.Receive(serverSocket.Handle, buffer, fds, out errno, out _));
            Assert.Equal(Tmds.Linux.LibC.EAGAIN, errno);
        }
        finally
        {
            files.ForEach(f => f.Dispose());
        }
    }

    [Fact]
    public void ConnectionReportsPeerHangUp()
    {
        var (client, server) = UnixSocket.CreatePair();
        using var connection = new WaylandConnection(client, "socketpair");
        server.Dispose();

        Assert.Equal(IoStatus.Closed, connection.Receive());
        Assert.Equal("the compositor closed the connection", connection.CloseReason);
        Assert.Equal(IoStatus.Closed, connection.Flush());
    }

    [Fact]
    public void EventsForUnknownObjectsCloseTheConnection()
    {
        var (client, server) = UnixSocket.CreatePair();
        using var connection = new WaylandConnection(client, "socketpair");
        using var serverSocket = server;
        using var writer = new WireWriter();
        WlCallback.EmitDone(writer, 77, 0);
        serverSocket.Send(writer.Written, [], out _);

        Assert.Equal(IoStatus.Done, connection.Receive());
        Assert.False(connection.DispatchPending());
        Assert.Equal("the compositor sent an event to unknown object 77", connection.CloseReason);
    }

    [Fact]
    public void DisplayErrorClosesTheConnection()
    {
        var (client, server) = UnixSocket.CreatePair();
        using var connection = new WaylandConnection(client, "socketpair");
        using var serverSocket = server;
        using var writer = new WireWriter();
        WlDisplay.EmitError(writer, 1, 1, 3, "bad thing");
        serverSocket.Send(writer.Written, [], out _);

        Assert.Equal(IoStatus.Done, connection.Receive());
        Assert.False(connection.DispatchPending());
        Assert.Equal(new WaylandProtocolError(1, "wl_display", 3, "bad thing"), connection.ProtocolError);
    }

    private sealed class PoolRecorder : WlShm.IRequestHandler
    {
        public uint Id { get; private set; }
        public int Size { get; private set; }
        public Fd? Fd { get; private set; }

        public void CreatePool(uint self, uint id, Fd fd, int size) => (Id, Fd, Size) = (id, fd, size);
    }
}
