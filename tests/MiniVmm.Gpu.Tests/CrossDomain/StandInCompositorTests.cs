using System.Net.Sockets;

namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>
/// A guest-driver harness whose compositor socket is a plain listener the test accepts on and plays the compositor
/// through (<see cref="Listener"/>); torn down in order: device (which closes its connections), then the socket.
/// </summary>
public abstract class StandInCompositorTests : IDisposable
{
    private protected static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private protected readonly string SocketPath = Path.Combine(Path.GetTempPath(), $"minivmm-xd-{Guid.NewGuid():N}.sock");
    private protected readonly Socket Listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private protected readonly GpuHarness H;

    /// <param name="configure">Extra device options on top of blobs, contexts and this socket.</param>
    private protected StandInCompositorTests(Func<GpuOptions, GpuOptions>? configure = null, bool traced = true)
    {
        Listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        Listener.Listen(16);
        var options = GpuHarness.BlobOptions() with { WaylandSockets = CompositorSockets.Only(SocketPath) };
        H = new GpuHarness(configure?.Invoke(options) ?? options, traced: traced);
    }

    public void Dispose()
    {
        H.Device.Reset();
        H.Dispose();
        Listener.Dispose();
        File.Delete(SocketPath);
        GC.SuppressFinalize(this);
    }
}
