using System.IO.Pipes;
using MiniVmm.CrossDomain;
using MiniVmm.Sys;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;

namespace MiniVmm.GuestProxy.Tests.Pipes;

/// <summary>Runs alone: the fd-count checks read /proc/self/fd, which every test in this process shares.</summary>
[CollectionDefinition("Scripted compositor", DisableParallelization = true)]
public sealed class ScriptedCompositorCollection;

/// <summary>
/// Pipes through client → proxy → in-process device model → a scripted compositor, both directions: a client's
/// pipe write end in a request (wl_data_offer.receive) and a compositor's in an event (wl_data_source.send). The
/// payloads are larger than one READ or WRITE (4072 bytes), so the chunking is exercised.
/// </summary>
[Collection("Scripted compositor")]
public sealed class PipesThroughTheProxyTests
{
    private const int PayloadSize = 10_000;

    [Fact]
    public void AClientsPipeGetsExactlyWhatTheCompositorWritesIntoIt()
    {
        using var chain = new ScriptedChain();
        var (client, compositor) = chain.Connect();
        using (client)
        using (compositor)
            AssertCompositorToClient(chain, client, compositor, ScriptedChain.Payload(PayloadSize, 1));
        Assert.DoesNotContain("closing it", chain.Log);
    }

    [Fact]
    public void TheCompositorsPipeGetsExactlyWhatAClientWritesIntoIt()
    {
        using var chain = new ScriptedChain();
        var (client, compositor) = chain.Connect();
        using (client)
        using (compositor)
            AssertClientToCompositor(chain, client, compositor, ScriptedChain.Payload(PayloadSize, 2));
        Assert.DoesNotContain("closing it", chain.Log);
    }

    [Fact]
    public void AMegabyteFromAClientPassesWhileOnePollWaitsThroughout()
    {
        // ~300 WRITEs and nothing from the compositor meanwhile: the one POLL outlives more than 256 descriptors.
        using var chain = new ScriptedChain();
        var (client, compositor) = chain.Connect();
        using (client)
        using (compositor)
        {
            var payload = ScriptedChain.Payload(1_200_000, 3);
            using var pipe = new AnonymousPipeServerStream(PipeDirection.In);
            using var writer = new WireWriter();
            WlDataSource.EmitSend(writer, 20, "text/plain", pipe.ClientSafePipeHandle);
            var length = writer.Written.Length;
            ScriptedChain.Send(compositor, writer);
            pipe.DisposeLocalCopyOfClientHandle();
            var clientEnd = Assert.Single(ScriptedChain.Receive(client.Handle, length).Fds);
            // The compositor reads while the client writes: a megabyte is more than a pipe holds.
            byte[]? received = null;
            var reading = new Thread(() => received = ScriptedChain.ReadToEnd(pipe)) { IsBackground = true };
            reading.Start();
            Assert.True(ScriptedChain.Finishes(() => ScriptedChain.WriteAndClose(clientEnd, payload), out var failure), "the client's writes hung\n" + chain.Log);
            Assert.Null(failure);
            Assert.True(reading.Join(ScriptedChain.Timeout), "the compositor's pipe never ended\n" + chain.Log);
            Assert.True(received is not null, "the compositor's pipe never reached end-of-file\n" + chain.Log);
            Assert.Equal(payload, received);
        }
        Assert.DoesNotContain("closing it", chain.Log);
    }

    [Fact]
    public void PipesAndPoolFdsReachTheCompositorInTheOrderTheRequestsUseThem()
    {
        using var chain = new ScriptedChain();
        var (client, compositor) = chain.Connect();
        using (client)
        using (compositor)
        {
            var poolPath = Path.GetTempFileName(); // a plain file serves as a pool: the proxy only preads it
            using var pool = File.OpenHandle(poolPath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, FileOptions.DeleteOnClose);
            RandomAccess.SetLength(pool, 4096);
            using var first = new AnonymousPipeServerStream(PipeDirection.In);
            using var second = new AnonymousPipeServerStream(PipeDirection.In);
            using var writer = new WireWriter();
            WlDisplay.GetRegistry(writer, 1, 2);
            WlRegistry.Bind(writer, 2, 1, "wl_shm", 1, 3);
            WlDataOffer.Receive(writer, 30, "text/plain", first.ClientSafePipeHandle);
            WlShm.CreatePool(writer, 3, 4, pool, 4096);
            WlShmPool.CreateBuffer(writer, 4, 5, 0, 16, 16, 64, WlShm.Format.Xrgb8888);
            WlDataOffer.Receive(writer, 30, "text/plain", second.ClientSafePipeHandle);
            ScriptedChain.Send(client.Handle, writer);
            // The compositor never sees the client's pool: the buffer comes on a pool of its own host blob, and that
            // blob's fd takes the pool's place between the pipes. Each pipe goes in a SEND of its own (crosvm's rule).
            using var expected = new WireWriter();
            WlDisplay.GetRegistry(expected, 1, 2);
            WlRegistry.Bind(expected, 2, 1, "wl_shm", 1, 3);
            WlDataOffer.Receive(expected, 30, "text/plain", first.ClientSafePipeHandle);
            var start = expected.BeginMessage(3, WlShm.Requests.CreatePool);
            expected.WriteNewId(4);
            expected.WriteInt(4096); // the device's answer for 16x16 XRGB: 64-byte rows, one page
            expected.EndMessage(start);
            WlShmPool.CreateBuffer(expected, 4, 5, 0, 16, 16, 64, WlShm.Format.Xrgb8888);
            WlDataOffer.Receive(expected, 30, "text/plain", second.ClientSafePipeHandle);
            var sent = expected.Written.ToArray();
            expected.Clear(); // lets go of the pipe handles, which must close below for the readers to see their ends

            var (data, fds) = ScriptedChain.Receive(compositor, sent.Length);
            Assert.Equal(sent, data);
            Assert.Equal(3, fds.Count);
            Assert.StartsWith("pipe:", ScriptedChain.Kind(fds[0]));
            Assert.StartsWith("/memfd:", ScriptedChain.Kind(fds[1])); // the host blob that replaced the client's pool
            Assert.StartsWith("pipe:", ScriptedChain.Kind(fds[2]));
            // crosvm takes one READ_PIPE per SEND: the two went in separate SENDs, the blob with the first.
            var types = Assert.Single(chain.Transports).Sends.Where(ids => ids.Length > 0).Select(ids => ids.Select(id => (CrossDomainIdType)id.Type).ToArray()).ToList();
            Assert.Equal([[CrossDomainIdType.ReadPipe, CrossDomainIdType.VirtgpuBlob], [CrossDomainIdType.ReadPipe]], types);
            // Each compositor pipe leads to its own client pipe, in order.
            first.DisposeLocalCopyOfClientHandle();
            second.DisposeLocalCopyOfClientHandle();
            ScriptedChain.WriteAndClose(fds[2], "second"u8.ToArray());
            ScriptedChain.WriteAndClose(fds[0], "first"u8.ToArray());
            Assert.Equal("first"u8.ToArray(), ScriptedChain.ReadToEnd(first));
            Assert.Equal("second"u8.ToArray(), ScriptedChain.ReadToEnd(second));
            fds[1].Dispose();
        }
        Assert.DoesNotContain("closing it", chain.Log);
    }

    [Fact]
    public void ManyTransfersBothWaysLeaveNoFdsBehind()
    {
        using var chain = new ScriptedChain();
        var (client, compositor) = chain.Connect();
        using (client)
        using (compositor)
        {
            // One of each first, so whatever is made once (relay thread, eventfds) exists before the count.
            AssertCompositorToClient(chain, client, compositor, ScriptedChain.Payload(PayloadSize, 3));
            AssertClientToCompositor(chain, client, compositor, ScriptedChain.Payload(PayloadSize, 4));
            var before = ScriptedChain.OpenFds();
            // 40 each way: 120 WRITEs with a POLL outstanding throughout wrap the 256-descriptor queue.
            for (var i = 0; i < 40; i++)
            {
                AssertCompositorToClient(chain, client, compositor, ScriptedChain.Payload(PayloadSize + i, 10 + i));
                AssertClientToCompositor(chain, client, compositor, ScriptedChain.Payload(PayloadSize + i, 100 + i));
            }
            AssertFdsSettle(before, chain);
        }
        Assert.DoesNotContain("closing it", chain.Log);
    }

    /// <summary>(a): the client's write end goes in wl_data_offer.receive; the stand-in fills it and closes it.</summary>
    internal static void AssertCompositorToClient(ScriptedChain chain, UnixSocket client, Fd compositor, byte[] payload)
    {
        using var pipe = new AnonymousPipeServerStream(PipeDirection.In);
        using var writer = new WireWriter();
        WlDataOffer.Receive(writer, 30, "text/plain", pipe.ClientSafePipeHandle);
        var sent = writer.Written.ToArray();
        ScriptedChain.Send(client.Handle, writer);
        pipe.DisposeLocalCopyOfClientHandle(); // sent: only the compositor's end may keep the pipe open now

        var (data, fds) = ScriptedChain.Receive(compositor, sent.Length);
        Assert.Equal(sent, data);
        var compositorEnd = Assert.Single(fds);
        Assert.StartsWith("pipe:", ScriptedChain.Kind(compositorEnd));
        ScriptedChain.WriteAndClose(compositorEnd, payload);
        var received = ScriptedChain.ReadToEnd(pipe);
        Assert.True(received is not null, "the client's pipe never reached end-of-file\n" + chain.Log);
        Assert.Equal(payload, received);
    }

    /// <summary>(b): the stand-in's write end goes in wl_data_source.send; the client fills it and closes it.</summary>
    internal static void AssertClientToCompositor(ScriptedChain chain, UnixSocket client, Fd compositor, byte[] payload)
    {
        using var pipe = new AnonymousPipeServerStream(PipeDirection.In);
        using var writer = new WireWriter();
        WlDataSource.EmitSend(writer, 20, "text/plain", pipe.ClientSafePipeHandle);
        var sent = writer.Written.ToArray();
        ScriptedChain.Send(compositor, writer);
        pipe.DisposeLocalCopyOfClientHandle();

        var (data, fds) = ScriptedChain.Receive(client.Handle, sent.Length);
        Assert.Equal(sent, data);
        var clientEnd = Assert.Single(fds);
        Assert.StartsWith("pipe:", ScriptedChain.Kind(clientEnd));
        ScriptedChain.WriteAndClose(clientEnd, payload);
        var received = ScriptedChain.ReadToEnd(pipe);
        Assert.True(received is not null, "the compositor's pipe never reached end-of-file\n" + chain.Log);
        Assert.Equal(payload, received);
    }

    /// <summary>
    /// Closes happen on the relay and device threads a moment after the last byte: wait (bounded) for them. Eventfds
    /// are left out: the in-process device keeps one wake eventfd per thread that ever waited at the same time as
    /// others (a pool, closed with the device), so their number follows how threads overlapped under load, not leaks.
    /// Pipes, sockets and memfds, what a proxy could leak, are all counted.
    /// </summary>
    internal static void AssertFdsSettle(Dictionary<string, string> before, ScriptedChain chain)
    {
        static Dictionary<string, string> Counted(Dictionary<string, string> fds) =>
            fds.Where(fd => fd.Value != "anon_inode:[eventfd]").ToDictionary(fd => fd.Key, fd => fd.Value);
        before = Counted(before);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var now = Counted(ScriptedChain.OpenFds());
        while (now.Count > before.Count && clock.Elapsed < ScriptedChain.Timeout)
        {
            Thread.Sleep(20);
            now = Counted(ScriptedChain.OpenFds());
        }
        var added = now.Where(fd => !before.TryGetValue(fd.Key, out var kind) || kind != fd.Value).Select(fd => $"{fd.Key} {fd.Value}");
        Assert.True(now.Count <= before.Count, $"{now.Count - before.Count} more fds open than before: {string.Join(", ", added)}\n" + chain.Log);
    }
}
