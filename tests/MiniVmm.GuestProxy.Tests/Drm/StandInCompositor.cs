using MiniVmm.Gpu;
using MiniVmm.Sys;
using MiniVmm.Wayland;

namespace MiniVmm.GuestProxy.Tests.Drm;

/// <summary>A plain Unix socket in a temporary directory standing in for the compositor, with fd passing.</summary>
internal sealed class StandInCompositor : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("minivmm-drm-").FullName;
    private readonly Fd _listener;
    private Fd? _client;

    public StandInCompositor()
    {
        _listener = UnixSocket.Listen(Path.Combine(_directory, "compositor"));
        Sockets = CompositorSockets.Only(Path.Combine(_directory, "compositor"));
    }

    public CompositorSockets Sockets { get; }

    /// <summary>The device's connection (it connects on INIT); waits up to 5 s for it.</summary>
    public Fd Client
    {
        get
        {
            if (_client is null)
            {
                Assert.True(Poll.WaitReadable(_listener, 5000), "the device never connected to the compositor");
                _client = UnixSocket.Accept(_listener) ?? throw new InvalidOperationException("accept failed");
            }
            return _client;
        }
    }

    /// <summary>Reads until <paramref name="length"/> bytes came (5 s at most), with the fds that came along.</summary>
    public (byte[] Bytes, List<Fd> Fds) Receive(int length)
    {
        var bytes = new byte[length];
        var fds = new List<Fd>();
        var got = 0;
        while (got < length)
        {
            Assert.True(Poll.WaitReadable(Client, 5000), $"the compositor got {got} of {length} bytes");
            var read = UnixSocket.Receive(Client, bytes.AsSpan(got), new FdListSink(fds), out var error, out _);
            Assert.True(read > 0, $"receive: {read}, errno {error}");
            got += read;
        }
        return (bytes, fds);
    }

    public void Send(ReadOnlySpan<byte> data, params int[] fds) => UnixSocket.SendAll(Client, data, fds, TimeSpan.FromSeconds(5));

    public void Dispose()
    {
        _client?.Dispose();
        _listener.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
