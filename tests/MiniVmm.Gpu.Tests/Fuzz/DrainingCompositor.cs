using System.Net.Sockets;

namespace MiniVmm.Gpu.Tests.Fuzz;

/// <summary>
/// A stand-in compositor socket for the fuzz runs: accepts every connection and reads and drops whatever arrives,
/// never answering, so the device's sends never block and its POLLs wait until their context goes.
/// </summary>
internal sealed class DrainingCompositor : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly string _directory = Directory.CreateTempSubdirectory("minivmm-fuzz-").FullName;
    private readonly List<Socket> _peers = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;

    public DrainingCompositor()
    {
        Path = System.IO.Path.Combine(_directory, "wayland-0");
        _listener.Bind(new UnixDomainSocketEndPoint(Path));
        _listener.Listen(64);
        _acceptLoop = Task.Run(AcceptAsync);
    }

    public string Path { get; }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var peer = await _listener.AcceptAsync(_stop.Token);
                lock (_peers)
                    _peers.Add(peer);
                _ = DrainAsync(peer);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Disposed: the run is over.
        }
    }

    private async Task DrainAsync(Socket peer)
    {
        var buffer = new byte[16384];
        try
        {
            while (await peer.ReceiveAsync(buffer, SocketFlags.None, _stop.Token) > 0)
            {
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The device hung up, or the run is over.
        }
        lock (_peers)
            _peers.Remove(peer);
        peer.Dispose();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        _acceptLoop.Wait(TimeSpan.FromSeconds(5));
        lock (_peers)
        {
            foreach (var peer in _peers)
                peer.Dispose();
        }
        Directory.Delete(_directory, recursive: true);
    }
}
