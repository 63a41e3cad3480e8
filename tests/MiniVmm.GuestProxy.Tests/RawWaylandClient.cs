using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using MiniVmm.Sys;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;

namespace MiniVmm.GuestProxy.Tests;

/// <summary>
/// A Wayland client made of raw messages on the proxy's socket, for tests that must see every event the client gets
/// (<see cref="Events"/>). Ids are allocated in order, as libwayland-server wants; pings are answered.
/// </summary>
internal sealed class RawWaylandClient(string socketPath) : IDisposable
{
    private const uint Display = 1, Registry = 2;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly UnixSocket _socket = UnixSocket.Connect(socketPath);
    private readonly FdQueue _fds = new();
    private readonly List<byte> _pending = [];
    private uint _nextId = Registry;
    private uint _wmBase;

    /// <summary>Every event received so far, in order.</summary>
    public List<(uint Object, ushort Opcode, byte[] Body)> Events { get; } = [];

    public uint NewId() => _nextId++;

    /// <summary>Binds wl_compositor, wl_shm and xdg_wm_base, makes a mapped-to-be toplevel and acks its first configure.</summary>
    public (uint Shm, uint Surface) CreateToplevel(string title)
    {
        using var writer = new WireWriter();
        WlDisplay.GetRegistry(writer, Display, NewId());
        var globals = new Dictionary<string, uint>();
        foreach (var (_, _, body) in RoundTrip(writer).Where(e => e.Object == Registry && e.Opcode == WlRegistry.Events.Global))
            globals[Encoding.UTF8.GetString(body, 8, (int)BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(4)) - 1)] = BinaryPrimitives.ReadUInt32LittleEndian(body);
        var (compositor, shm, wmBase, surface, xdgSurface, toplevel) = (NewId(), NewId(), NewId(), NewId(), NewId(), NewId());
        WlRegistry.Bind(writer, Registry, globals[WlCompositor.Name], WlCompositor.Name, 4, compositor);
        WlRegistry.Bind(writer, Registry, globals[WlShm.Name], WlShm.Name, 1, shm);
        WlRegistry.Bind(writer, Registry, globals[XdgWmBase.Name], XdgWmBase.Name, 1, wmBase);
        _wmBase = wmBase;
        WlCompositor.CreateSurface(writer, compositor, surface);
        XdgWmBase.GetXdgSurface(writer, wmBase, xdgSurface, surface);
        XdgSurface.GetToplevel(writer, xdgSurface, toplevel);
        XdgToplevel.SetTitle(writer, toplevel, title);
        WlSurface.Commit(writer, surface);
        Send(writer);
        var configure = ReceiveUntil(e => e.Object == xdgSurface && e.Opcode == XdgSurface.Events.Configure);
        XdgSurface.AckConfigure(writer, xdgSurface, BinaryPrimitives.ReadUInt32LittleEndian(configure.Body));
        Send(writer);
        return (shm, surface);
    }

    /// <summary>Sends what <paramref name="writer"/> holds (and its fds), then clears it.</summary>
    public void Send(WireWriter writer)
    {
        var fds = Enumerable.Range(0, writer.FdCount).Select(i => (int)writer.GetFd(i).DangerousGetHandle()).ToArray();
        var data = writer.Written;
        var clock = Stopwatch.StartNew();
        while (!data.IsEmpty)
        {
            var sent = _socket.Send(data, fds, out var errno);
            Assert.True(sent > 0 || errno == Tmds.Linux.LibC.EAGAIN, $"send to the proxy: errno {errno}");
            Assert.True(clock.Elapsed < Timeout, "the proxy stopped reading");
            if (sent > 0)
            {
                data = data[sent..];
                fds = [];
            }
            else
                Thread.Sleep(1);
        }
        writer.Clear();
    }

    /// <summary>Sends <paramref name="writer"/>'s requests and a wl_display.sync; the events received until its done.</summary>
    public List<(uint Object, ushort Opcode, byte[] Body)> RoundTrip(WireWriter writer)
    {
        var first = Events.Count;
        var callback = NewId();
        WlDisplay.Sync(writer, Display, callback);
        Send(writer);
        ReceiveUntil(e => e.Object == callback && e.Opcode == WlCallback.Events.Done);
        return Events[first..];
    }

    public void Dispose()
    {
        _fds.Dispose();
        _socket.Dispose();
    }

    /// <summary>Reads events until one matches; fails on wl_display.error, a hang-up or <see cref="Timeout"/>.</summary>
    private (uint Object, ushort Opcode, byte[] Body) ReceiveUntil(Func<(uint Object, ushort Opcode, byte[] Body), bool> match)
    {
        var clock = Stopwatch.StartNew();
        var buffer = new byte[4096];
        while (true)
        {
            var bytes = _pending.ToArray();
            var offset = 0;
            (uint, ushort, byte[])? found = null;
            while (found is null && WireMessage.TryParse(bytes.AsSpan(offset), out var message, out _))
            {
                var received = (message.ObjectId, message.Opcode, message.Body.ToArray());
                offset += message.Size;
                Events.Add(received);
                Assert.False(received.ObjectId == Display && received.Opcode == WlDisplay.Events.Error,
                    "wl_display.error: " + WireTrace.Format(WaylandInterfaces.Find(WlDisplay.Name), Display, MessageDirection.Event, received.Opcode, received.Item3));
                if (received.ObjectId == _wmBase && received.Opcode == XdgWmBase.Events.Ping)
                    Pong(BinaryPrimitives.ReadUInt32LittleEndian(received.Item3));
                if (match(received))
                    found = received;
            }
            _pending.RemoveRange(0, offset);
            if (found is { } hit)
                return hit;
            Assert.True(clock.Elapsed < Timeout, "the expected Wayland event did not come through the proxy");
            if (!Poll.WaitReadable(_socket.Handle, 100))
                continue;
            var read = _socket.Receive(buffer, _fds, out _, out _);
            Assert.True(read != 0, "the proxy hung up");
            if (read > 0)
                _pending.AddRange(buffer.AsSpan(0, read));
        }
    }

    private void Pong(uint serial)
    {
        using var writer = new WireWriter();
        XdgWmBase.Pong(writer, _wmBase, serial);
        Send(writer);
    }
}
