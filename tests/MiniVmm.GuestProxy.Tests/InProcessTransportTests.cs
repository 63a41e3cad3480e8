using System.Net.Sockets;
using MiniVmm.CrossDomain;
using MiniVmm.Gpu;
using MiniVmm.ProxyHost;

namespace MiniVmm.GuestProxy.Tests;

/// <summary>The in-process transport on its own, against a plain socket standing in for the compositor.</summary>
public sealed class InProcessTransportTests
{
    /// <summary>
    /// A client that runs for long: far more command bytes than the control queue's data space (6 MiB) go through,
    /// with a POLL outstanding the whole time, and the POLL still completes with the compositor's answer.
    /// </summary>
    [Fact]
    public void TensOfMegabytesOfSendsReuseTheQueuesDataSpace()
    {
        var directory = Directory.CreateTempSubdirectory("minivmm-transport-").FullName;
        try
        {
            var path = Path.Combine(directory, "compositor");
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen();
            using var transport = new InProcessCrossDomainTransport(CompositorSockets.Only(path), CrossDomainConstants.ChannelTypeWayland);
            transport.Connect();
            using var compositor = listener.Accept();
            Assert.Null(transport.Receive(TimeSpan.FromMilliseconds(1))); // leaves the POLL waiting

            const int sends = 5000;
            var chunk = new byte[CrossDomainWire.MaxSendData];
            long received = 0;
            var drain = new Thread(() =>
            {
                var buffer = new byte[1 << 16];
                try
                {
                    int read;
                    while (received < (long)sends * chunk.Length && (read = compositor.Receive(buffer)) > 0)
                        received += read;
                }
                catch (SocketException)
                {
                    // The device dropped the connection: the count below tells how far it got.
                }
            });
            drain.Start();
            for (var i = 0; i < sends; i++)
            {
                chunk[0] = (byte)i;
                transport.Send(chunk, []);
            }
            Assert.True(drain.Join(TimeSpan.FromSeconds(30)), $"the compositor got {received} bytes");
            Assert.Equal((long)sends * chunk.Length, received);

            compositor.Send("done"u8);
            var answer = transport.Receive(TimeSpan.FromSeconds(10));
            Assert.NotNull(answer);
            Assert.Equal("done"u8.ToArray(), answer.Data);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
