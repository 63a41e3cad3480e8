using System.Net.Sockets;

namespace MiniVmm.Gpu.Tests.Winsrv;

/// <summary>A listening Unix socket standing in for the compositor, so the hostile tests script both ends without Weston.</summary>
internal sealed class ScriptedCompositor : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly string _directory = Directory.CreateTempSubdirectory("minivmm-winsrv-").FullName;

    public ScriptedCompositor()
    {
        Path = System.IO.Path.Combine(_directory, "wayland-0");
        _listener.Bind(new UnixDomainSocketEndPoint(Path));
        _listener.Listen(16);
    }

    public string Path { get; }

    /// <summary>The sockets of --wayland-socket UNNAMED --wayland-socket NAMED,name=second (channels 1 and 20).</summary>
    public static CompositorSockets Sockets(ScriptedCompositor? unnamed, ScriptedCompositor named)
    {
        string[] values = unnamed is null ? [$"{named.Path},name=second"] : [unnamed.Path, $"{named.Path},name=second"];
        Assert.True(CompositorSockets.TryParse(values, () => null, out var sockets, out string? error), error);
        return sockets;
    }

    /// <summary>Whether the device has connected and not yet been accepted (does not wait).</summary>
    public bool HasPendingConnection => _listener.Poll(0, SelectMode.SelectRead);

    /// <summary>The compositor end of the next connection the device opened (CONNECT has already returned).</summary>
    public Socket Accept()
    {
        var peer = _listener.Accept();
        peer.ReceiveTimeout = (int)WinsrvHarness.Timeout.TotalMilliseconds;
        return peer;
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes from <paramref name="peer"/>.</summary>
    public static byte[] Read(Socket peer, int count)
    {
        var buffer = new byte[count];
        for (int done = 0; done < count;)
        {
            int got = peer.Receive(buffer, done, count - done, SocketFlags.None);
            if (got == 0)
                throw new IOException($"the device closed the connection after {done} of {count} bytes");
            done += got;
        }
        return buffer;
    }

    public void Dispose()
    {
        _listener.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
