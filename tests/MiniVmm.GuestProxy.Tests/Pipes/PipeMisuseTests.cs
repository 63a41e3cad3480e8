using System.IO.Pipes;
using MiniVmm.Sys;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;
using static MiniVmm.GuestProxy.Tests.Pipes.PipesThroughTheProxyTests;

namespace MiniVmm.GuestProxy.Tests.Pipes;

/// <summary>
/// Odd and hostile pipe use: fds the proxy cannot carry, and either end closing early. Each must end cleanly (a
/// closed client with a reason, or end-of-file / EPIPE where a native compositor would give the same), within a
/// bounded wait, with no fds left behind and the proxy still serving.
/// </summary>
[Collection("Scripted compositor")]
public sealed class PipeMisuseTests
{
    private const int Large = 200_000; // more than a pipe holds, so the writer depends on the far end draining

    [Fact]
    public void AClientSendingASocketIsClosedWithAReasonAndOthersKeepWorking()
    {
        using var chain = new ScriptedChain();
        var (other, otherCompositor) = chain.Connect();
        var (client, compositor) = chain.Connect();
        var (mine, theirs) = UnixSocket.CreatePair();
        using (other)
        using (otherCompositor)
        using (client)
        using (compositor)
        using (mine)
        using (theirs)
        {
            using var writer = new WireWriter();
            WlDataOffer.Receive(writer, 30, "text/plain", theirs.Handle);
            ScriptedChain.Send(client.Handle, writer);
            Assert.True(ScriptedChain.HangsUp(client.Handle), "the proxy kept a client that sent a socket\n" + chain.Log);
            Assert.Contains("no request took", chain.Log);

            AssertCompositorToClient(chain, other, otherCompositor, ScriptedChain.Payload(10_000, 5));
            AssertClientToCompositor(chain, other, otherCompositor, ScriptedChain.Payload(10_000, 6));
        }
    }

    [Fact]
    public void AClientSendingAPipesReadEndIsClosedWithAReason()
    {
        using var chain = new ScriptedChain();
        var (client, compositor) = chain.Connect();
        using (client)
        using (compositor)
        {
            using var pipe = new AnonymousPipeServerStream(PipeDirection.Out); // the client handle is the read end
            using var writer = new WireWriter();
            WlDataOffer.Receive(writer, 30, "text/plain", pipe.ClientSafePipeHandle);
            ScriptedChain.Send(client.Handle, writer);
            pipe.DisposeLocalCopyOfClientHandle();
            Assert.True(ScriptedChain.HangsUp(client.Handle), "the proxy kept a client that sent a read end\n" + chain.Log);
            Assert.Contains("sent the read end of a pipe", chain.Log);
        }
    }

    [Fact]
    public void AClientClosingItsPipeBeforeTheCompositorWritesCostsNothing()
    {
        using var chain = new ScriptedChain();
        var (client, compositor) = chain.Connect();
        using (client)
        using (compositor)
        {
            AssertCompositorToClient(chain, client, compositor, ScriptedChain.Payload(10_000, 7));
            var before = ScriptedChain.OpenFds();
            var compositorEnd = SendClientPipe(client, compositor, out var pipe);
            pipe.Dispose(); // the client gives up before any data comes
            // The compositor's writes still drain (into nothing): a compositor is never stalled by a client gone away.
            Assert.True(ScriptedChain.Finishes(() => ScriptedChain.WriteAndClose(compositorEnd, ScriptedChain.Payload(Large, 8)), out var failure),
                "the compositor's writes stalled\n" + chain.Log);
            Assert.Null(failure);
            AssertFdsSettle(before, chain);
            AssertCompositorToClient(chain, client, compositor, ScriptedChain.Payload(10_000, 9));
        }
    }

    [Fact]
    public void ACompositorClosingAClientsPipeUnwrittenGivesTheClientEndOfFile()
    {
        using var chain = new ScriptedChain();
        var (client, compositor) = chain.Connect();
        using (client)
        using (compositor)
        {
            AssertCompositorToClient(chain, client, compositor, ScriptedChain.Payload(10_000, 10));
            var before = ScriptedChain.OpenFds();
            var compositorEnd = SendClientPipe(client, compositor, out var pipe);
            using (pipe)
            {
                compositorEnd.Dispose();
                Assert.Equal([], ScriptedChain.ReadToEnd(pipe) ?? [0xFF]); // [0xFF]: never reached end-of-file
            }
            AssertFdsSettle(before, chain);
        }
        Assert.DoesNotContain("closing it", chain.Log);
    }

    [Fact]
    public void ACompositorClosingItsPipeEarlyGivesTheWritingClientEpipeNotAHang()
    {
        using var chain = new ScriptedChain();
        var (client, compositor) = chain.Connect();
        using (client)
        using (compositor)
        {
            AssertClientToCompositor(chain, client, compositor, ScriptedChain.Payload(10_000, 11));
            var before = ScriptedChain.OpenFds();
            using var writer = new WireWriter();
            using (var pipe = new AnonymousPipeServerStream(PipeDirection.In))
            {
                WlDataSource.EmitSend(writer, 20, "text/plain", pipe.ClientSafePipeHandle);
                ScriptedChain.Send(compositor, writer);
                pipe.DisposeLocalCopyOfClientHandle(); // Dispose leaves an exposed client handle to the finalizer
            } // both of the compositor's ends are gone before the client writes a byte
            var clientEnd = Assert.Single(ScriptedChain.Receive(client.Handle, 8).Fds);
            Assert.True(ScriptedChain.Finishes(() => ScriptedChain.WriteAndClose(clientEnd, ScriptedChain.Payload(Large, 12)), out var failure),
                "the client's writes hung\n" + chain.Log);
            Assert.IsAssignableFrom<IOException>(failure); // EPIPE, as from a native compositor
            AssertFdsSettle(before, chain);
            AssertClientToCompositor(chain, client, compositor, ScriptedChain.Payload(10_000, 13));
        }
    }

    [Fact]
    public void AClientLeavingMidTransferLeavesNoFdsBehind()
    {
        using var chain = new ScriptedChain();
        var (first, firstCompositor) = chain.Connect(); // the proxy's one-time state exists before the count
        using (first)
        using (firstCompositor)
        {
            AssertCompositorToClient(chain, first, firstCompositor, ScriptedChain.Payload(10_000, 14));
            var before = ScriptedChain.OpenFds();
            var (client, compositor) = chain.Connect();
            using (compositor)
            {
                var compositorEnd = SendClientPipe(client, compositor, out var pipe);
                pipe.Dispose();
                client.Dispose();
                Assert.True(ScriptedChain.HangsUp(compositor), "the device kept the compositor connection of a client gone away\n" + chain.Log);
                Assert.True(ScriptedChain.Finishes(() => ScriptedChain.WriteAndClose(compositorEnd, ScriptedChain.Payload(Large, 15)), out var failure),
                    "the compositor's pipe stayed open after its context went\n" + chain.Log);
                Assert.IsAssignableFrom<IOException>(failure); // EPIPE: nobody reads it any more
            }
            AssertFdsSettle(before, chain);
        }
    }

    /// <summary>A wl_data_offer.receive with a fresh pipe: the compositor's end; the client keeps the read end.</summary>
    private static Fd SendClientPipe(UnixSocket client, Fd compositor, out AnonymousPipeServerStream readEnd)
    {
        readEnd = new AnonymousPipeServerStream(PipeDirection.In);
        using var writer = new WireWriter();
        WlDataOffer.Receive(writer, 30, "text/plain", readEnd.ClientSafePipeHandle);
        var length = writer.Written.Length;
        ScriptedChain.Send(client.Handle, writer);
        readEnd.DisposeLocalCopyOfClientHandle();
        return Assert.Single(ScriptedChain.Receive(compositor, length).Fds);
    }
}
