using System.Net.Sockets;

namespace MiniVmm.Wayland.Tests.Client;

public sealed class ConnectionErrorTests
{
    [Fact]
    public void MissingSocketIsOneClearLine()
    {
        var path = Path.Combine(Path.GetTempPath(), $"minivmm-no-such-socket-{Guid.NewGuid():N}");
        var error = Assert.Throws<WaylandException>(() => WaylandConnection.Connect(path));
        Assert.Equal($"cannot connect to the Wayland compositor at {path}: ENOENT (No such file or directory)", error.Message);
        Assert.Equal(2, error.Errno);
    }

    [Fact]
    public void SocketWithoutListenerIsConnectionRefused()
    {
        var directory = Directory.CreateTempSubdirectory("minivmm-refused-").FullName;
        var path = Path.Combine(directory, "wayland-dead");
        try
        {
            // Bound but not listening refuses connections, like a stale socket a crashed compositor left behind.
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Bind(new UnixDomainSocketEndPoint(path));
            var error = Assert.Throws<WaylandException>(() =>
                new ScanoutWindow(new ScanoutWindowOptions { SocketPath = path }));
            Assert.StartsWith($"cannot connect to the Wayland compositor at {path}: ECONNREFUSED", error.Message);
            Assert.DoesNotContain('\n', error.Message);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("/run/custom.sock", null, null, "/run/custom.sock")]
    [InlineData(null, "/run/user/1000", null, "/run/user/1000/wayland-0")]
    [InlineData(null, "/run/user/1000", "wayland-7", "/run/user/1000/wayland-7")]
    [InlineData(null, null, "/abs/wayland-1", "/abs/wayland-1")]
    [InlineData("", "/run/user/5", "", "/run/user/5/wayland-0")]
    public void SocketPathFollowsOptionThenEnvironment(string? option, string? runtimeDir, string? display, string expected)
    {
        var environment = new Dictionary<string, string?> { ["XDG_RUNTIME_DIR"] = runtimeDir, ["WAYLAND_DISPLAY"] = display };
        Assert.Equal(expected, WaylandSocketPath.Resolve(option, name => environment.GetValueOrDefault(name)));
    }

    [Fact]
    public void MissingRuntimeDirectoryIsExplained()
    {
        var error = Assert.Throws<WaylandException>(() => WaylandSocketPath.Resolve(null, _ => null));
        Assert.Contains("--wayland-socket", error.Message);
    }
}
