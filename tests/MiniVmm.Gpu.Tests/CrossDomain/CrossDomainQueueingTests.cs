using System.Diagnostics;
using System.IO.Pipes;
using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;
using MiniVmm.Wayland;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>
/// Through the whole device: a compositor (or a clipboard reader) that does not read must not stall SUBMIT_3D.
/// SENDs and WRITEs answer at once, the bytes go out later from the event loop in order, each blob fd on the chunk
/// that holds its message's first byte; a hang-up with bytes queued is the POLL's hang-up and leaks no fd.
/// In the Soak collection, which runs alone: one test counts the process's fds.
/// </summary>
[Collection("Soak")]
public sealed class CrossDomainQueueingTests : StandInCompositorTests
{
    private const int MessageSize = 4000;

    [Fact]
    public void SendsToACompositorThatDoesNotReadAnswerAtOnceAndArriveInOrderWithTheirFds()
    {
        using var peer = Open();
        Assert.Equal(RESP_OK_NODATA, H.CreateQueriedHostBlob(50, 4096, ctxId: 1, queryRing: 100).Type);
        Assert.Equal(RESP_OK_NODATA, H.CreateQueriedHostBlob(51, 8192, ctxId: 1, queryRing: 100).Type);
        var withFd = new Dictionary<int, (uint Blob, long Size)> { [300] = (50, 4096), [700] = (51, 8192) };
        var sent = new List<byte>();
        var total = Stopwatch.StartNew();
        for (var i = 0; i < 1024; i++) // 4 MB, far past the socket's buffer
        {
            var chunk = Chunk(i);
            (uint, uint)[] ids = withFd.TryGetValue(i, out var blob) ? [(blob.Blob, (uint)CrossDomainIdType.VirtgpuBlob)] : [];
            var clock = Stopwatch.StartNew();
            Assert.Equal(RESP_OK_NODATA, H.Submit3D(1, GpuHarness.XdSend(chunk, ids)).Type);
            Assert.True(clock.ElapsedMilliseconds < 200, $"SEND {i} took {clock.ElapsedMilliseconds} ms");
            sent.AddRange(chunk);
        }
        Assert.True(total.ElapsedMilliseconds < 5000, $"1024 SENDs took {total.ElapsedMilliseconds} ms");
        Assert.True(H.Device.Backend.GetCrossDomainContext(1)!.QueuedSendBytes > 1 << 20, "the test did not fill the socket");

        // The compositor catches up; the device's event loop flushes the rest as the socket drains.
        var received = new List<byte>();
        var fdChunks = new List<(int Start, int End, List<Fd> Fds)>();
        using var fds = new FdQueue();
        var buffer = new byte[65536];
        using var peerFd = new Fd((int)peer.Handle, ownsHandle: false);
        var deadline = Stopwatch.StartNew();
        while (received.Count < sent.Count)
        {
            Assert.True(deadline.Elapsed < Wait, $"only {received.Count} of {sent.Count} bytes came");
            var count = UnixSocket.Receive(peerFd, buffer, fds, out _, out _);
            if (count <= 0)
            {
                Thread.Sleep(1);
                continue;
            }
            var got = new List<Fd>();
            while (fds.TryDequeue(out var fd))
                got.Add(fd);
            if (got.Count > 0)
                fdChunks.Add((received.Count, received.Count + count, got));
            received.AddRange(buffer.AsSpan(0, count));
        }
        Assert.Equal(sent, received);
        Assert.Equal(withFd.Count, fdChunks.Count);
        foreach (var ((start, end, got), (message, (_, size))) in fdChunks.Zip(withFd.OrderBy(pair => pair.Key)))
        {
            var fd = Assert.Single(got);
            Assert.InRange(message * MessageSize, start, end - 1);
            using var file = new SafeFileHandle(fd.DangerousGetHandle(), ownsHandle: false);
            Assert.Equal(size, RandomAccess.GetLength(file));
            fd.Dispose();
        }
        Assert.Equal(0, H.Device.Backend.GetCrossDomainContext(1)!.QueuedSendBytes);
    }

    [Fact]
    public async Task WritesToAPipeNobodyReadsAnswerAtOnceAndTheReaderGetsThemAll()
    {
        using var peer = Open();
        using var pipe = new AnonymousPipeServerStream(PipeDirection.In);
        using (var peerFd = new Fd((int)peer.Handle, ownsHandle: false))
            Assert.Equal(4, UnixSocket.Send(peerFd, "offr"u8, [(int)pipe.ClientSafePipeHandle.DangerousGetHandle()], out _));
        pipe.DisposeLocalCopyOfClientHandle();
        var poll = H.StartSubmit3D(1, GpuHarness.XdPoll(), fence: 1, ring: 1);
        H.WaitUsed(Wait, poll);
        var (id, type, _) = Assert.Single(GpuHarness.ParseReceive(H.ReadRing(101)).Ids);
        Assert.Equal((uint)CrossDomainIdType.WritePipe, type);

        var expected = new List<byte>();
        for (var i = 0; i < 256; i++) // 1 MB, far past a 64 KiB pipe
        {
            var chunk = Chunk(i);
            var clock = Stopwatch.StartNew();
            Assert.Equal(RESP_OK_NODATA, H.Submit3D(1, GpuHarness.XdWrite(id, chunk, hangUp: i == 255)).Type);
            Assert.True(clock.ElapsedMilliseconds < 200, $"WRITE {i} took {clock.ElapsedMilliseconds} ms");
            expected.AddRange(chunk);
        }
        // Read to end-of-file: the device closes the pipe only after the last queued byte went out.
        using var all = new MemoryStream();
        await pipe.CopyToAsync(all).WaitAsync(Wait);
        Assert.Equal(expected, all.ToArray());
    }

    [Fact]
    public void AHangUpWithBytesQueuedAnswersThePollAndClosesTheQueuedFds()
    {
        var peer = Open();
        Assert.Equal(RESP_OK_NODATA, H.CreateQueriedHostBlob(50, 4096, ctxId: 1, queryRing: 100).Type);
        for (var i = 0; H.Device.Backend.GetCrossDomainContext(1)!.QueuedSendBytes < 256 * 1024; i++)
        {
            Assert.True(i < 10_000, "nothing was queued");
            Assert.Equal(RESP_OK_NODATA, H.Submit3D(1, GpuHarness.XdSend(Chunk(i))).Type);
        }
        // Behind the queue, so the device still holds this dup of the blob's fd.
        Assert.Equal(RESP_OK_NODATA, H.Submit3D(1, GpuHarness.XdSend(Chunk(0), (50u, (uint)CrossDomainIdType.VirtgpuBlob))).Type);
        var poll = H.StartSubmit3D(1, GpuHarness.XdPoll(), fence: 9, ring: 1);
        var before = Fuzz.GpuFuzzTests.OpenFdCount();

        peer.Dispose();
        Assert.Equal(9UL, Assert.Single(H.WaitUsed(Wait, poll)).FenceId);
        var (ids, data) = GpuHarness.ParseReceive(H.ReadRing(101));
        Assert.Empty(ids);
        Assert.Empty(data);
        Assert.False(H.Device.Backend.GetCrossDomainContext(1)!.IsConnected);
        Assert.Equal(RESP_ERR_UNSPEC, H.Submit3D(1, GpuHarness.XdSend("late"u8)).Type);
        // The compositor's end, the device's socket and the queued dup are all closed (the loop thread lets go of
        // the socket just after its callback answered the POLL, hence the short wait).
        var clock = Stopwatch.StartNew();
        int after;
        while ((after = Fuzz.GpuFuzzTests.OpenFdCount()) > before - 3 && clock.Elapsed < TimeSpan.FromSeconds(2))
            Thread.Sleep(10);
        Assert.True(after <= before - 3, $"{before} fds before the hang-up, {after} after");
    }

    private Socket Open()
    {
        Assert.Equal(RESP_OK_NODATA, H.CreateContext(1).Type);
        H.CreateRing(100, 1);
        H.CreateRing(101, 1);
        Assert.Equal(RESP_OK_NODATA, H.Submit3D(1, GpuHarness.XdInit(100, 101)).Type);
        return Listener.Accept();
    }

    private static byte[] Chunk(int index)
    {
        var chunk = new byte[MessageSize];
        new Random(index).NextBytes(chunk);
        return chunk;
    }
}
