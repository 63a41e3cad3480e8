using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using MiniVmm.Sys;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;

namespace MiniVmm.GuestProxy.Tests;

/// <summary>Raw Wayland clients through proxy → in-process device model → real Weston.</summary>
[Collection("Weston")]
public sealed class ProxyRelayTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void RegistryGlobalsComeBackThroughTheProxy()
    {
        using var chain = new ProxyFixture();
        using var client = UnixSocket.Connect(chain.SocketPath);
        using var writer = new WireWriter();
        WlDisplay.GetRegistry(writer, 1, 2);
        WlDisplay.Sync(writer, 1, 3);
        Assert.Equal(writer.Written.Length, client.Send(writer.Written, [], out _));

        var names = new HashSet<string>();
        var pending = new List<byte>();
        var done = false;
        var clock = Stopwatch.StartNew();
        using var fds = new FdQueue();
        var buffer = new byte[4096];
        while (!done)
        {
            Assert.True(clock.Elapsed < Timeout, "no wl_callback.done through the proxy\n" + chain.Log);
            if (!Poll.WaitReadable(client.Handle, 100))
                continue;
            var read = client.Receive(buffer, fds, out _, out _);
            Assert.True(read != 0, "the proxy hung up\n" + chain.Log);
            if (read < 0)
                continue;
            pending.AddRange(buffer.AsSpan(0, read).ToArray());
            var bytes = pending.ToArray();
            var offset = 0;
            while (WireMessage.TryParse(bytes.AsSpan(offset), out var message, out _))
            {
                if (message.ObjectId == 2 && message.Opcode == WlRegistry.Events.Global)
                {
                    var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(message.Body[4..]);
                    names.Add(Encoding.UTF8.GetString(message.Body.Slice(8, length - 1)));
                }
                done |= message.ObjectId == 3;
                offset += message.Size;
            }
            pending.RemoveRange(0, offset);
        }
        Assert.Contains("wl_compositor", names);
        Assert.Contains("wl_shm", names);
        Assert.Contains("xdg_wm_base", names);
    }

    [Fact]
    public void AClientThatSendsAnUnclaimedFdIsClosedWithALogLine()
    {
        using var chain = new ProxyFixture();
        using var client = UnixSocket.Connect(chain.SocketPath);
        using var writer = new WireWriter();
        WlDisplay.GetRegistry(writer, 1, 2);
        using var placeholder = File.OpenHandle("/dev/null");
        WlShm.CreatePool(writer, 3, 4, placeholder, 4096); // object 3 does not exist: the proxy must stop it first
        Assert.True(client.Send(writer.Written, [(int)writer.GetFd(0).DangerousGetHandle()], out _) > 0, "could not send the fd");

        var clock = Stopwatch.StartNew();
        using var fds = new FdQueue();
        var buffer = new byte[4096];
        while (true)
        {
            Assert.True(clock.Elapsed < Timeout, "the proxy kept a client that sent an fd\n" + chain.Log);
            if (!Poll.WaitReadable(client.Handle, 100))
                continue;
            if (client.Receive(buffer, fds, out _, out _) == 0)
                break;
        }
        Assert.Contains("no request took", chain.Log);
    }
}
