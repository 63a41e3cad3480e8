using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using MiniVmm.Wayland.Protocol;

namespace MiniVmm.Wayland.Tests.Scanout;

/// <summary>
/// A scripted compositor on a Unix socket, for what Weston will not do on demand: ping, close, withholding
/// wl_buffer.release, fullscreen configures, or silence. It answers wl_display.sync and get_registry, sends the
/// first configure on the first commit (unless told not to), and records every request as a trace line.
/// </summary>
internal sealed class FakeCompositor : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("minivmm-fake-wl-").FullName;
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly Dictionary<uint, InterfaceInfo> _objects = new() { [1] = WlDisplay.Info };
    private readonly List<string> _requests = [];
    private readonly Lock _lock = new();
    private readonly Thread _thread;
    private readonly string[] _globals;
    private Socket? _client;
    private bool _configured;

    public FakeCompositor(bool autoConfigure = true, bool silent = false, params string[] globals)
    {
        AutoConfigure = autoConfigure;
        Silent = silent;
        _globals = globals.Length > 0 ? globals : ["wl_compositor", "wl_shm", "xdg_wm_base"];
        _listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        _listener.Listen(1);
        _thread = new Thread(Serve) { IsBackground = true };
        _thread.Start();
    }

    public string SocketPath => Path.Combine(_directory, "wayland-fake");

    public bool AutoConfigure { get; }

    public bool Silent { get; }

    /// <summary>The requests received so far, formatted by <see cref="WireTrace.Format"/>.</summary>
    public string[] Requests
    {
        get
        {
            lock (_lock)
                return [.. _requests];
        }
    }

    /// <summary>The id the client gave the first object of this interface.</summary>
    public uint IdOf(string interfaceName)
    {
        lock (_lock)
            return _objects.First(o => o.Value.Name == interfaceName).Key;
    }

    public bool WaitFor(Func<string, bool> request, TimeSpan? timeout = null) =>
        SpinWait.SpinUntil(() => Requests.Any(request), timeout ?? TimeSpan.FromSeconds(5));

    /// <summary>Sends events written by <paramref name="write"/>.</summary>
    public void Send(Action<WireWriter> write)
    {
        using var writer = new WireWriter();
        write(writer);
        lock (_lock)
            _client!.Send(writer.Written);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _client?.Dispose();
        _thread.Join(TimeSpan.FromSeconds(2));
        Directory.Delete(_directory, recursive: true);
    }

    private void Serve()
    {
        try
        {
            _client = _listener.Accept();
            var buffer = new byte[256 * 1024];
            var length = 0;
            while (true)
            {
                var received = _client.Receive(buffer.AsSpan(length));
                if (received == 0)
                    return;
                length += received;
                var data = buffer.AsSpan(0, length);
                while (WireMessage.TryParse(data, out var message, out _))
                {
                    Handle(message);
                    data = data[message.Size..];
                }
                data.CopyTo(buffer);
                length = data.Length;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The test is over.
        }
    }

    private void Handle(WireMessage message)
    {
        InterfaceInfo? iface;
        lock (_lock)
        {
            iface = _objects.GetValueOrDefault(message.ObjectId);
            _requests.Add(WireTrace.Format(iface, message.ObjectId, MessageDirection.Request, message.Opcode, message.Body));
            RecordNewObjects(iface?.GetMessage(MessageDirection.Request, message.Opcode), message.Body);
        }
        if (Silent)
            return;
        var body = message.Body;
        switch (iface?.Name, message.Opcode)
        {
            case ("wl_display", WlDisplay.Requests.Sync):
                var callback = BinaryPrimitives.ReadUInt32LittleEndian(body);
                Send(w =>
                {
                    WlCallback.EmitDone(w, callback, 0);
                    WlDisplay.EmitDeleteId(w, 1, callback);
                });
                break;
            case ("wl_display", WlDisplay.Requests.GetRegistry):
                var registry = BinaryPrimitives.ReadUInt32LittleEndian(body);
                Send(w =>
                {
                    for (var i = 0; i < _globals.Length; i++)
                        WlRegistry.EmitGlobal(w, registry, (uint)i + 1, _globals[i], _globals[i] == "wl_compositor" ? 4u : 2u);
                });
                break;
            case ("wl_surface", WlSurface.Requests.Commit) when AutoConfigure && !_configured:
                _configured = true;
                SendConfigure(0, 0, []);
                break;
        }
    }

    public void SendConfigure(int width, int height, XdgToplevel.State[] states, uint serial = 1)
    {
        var array = states.SelectMany(s => BitConverter.GetBytes((uint)s)).ToArray();
        Send(w =>
        {
            XdgToplevel.EmitConfigure(w, IdOf("xdg_toplevel"), width, height, array);
            XdgSurface.EmitConfigure(w, IdOf("xdg_surface"), serial);
        });
    }

    private void RecordNewObjects(MessageInfo? info, ReadOnlySpan<byte> body)
    {
        if (info is null)
            return;
        var reader = new WireReader(body, null);
        foreach (var arg in info.Args)
        {
            switch (arg.Type)
            {
                case WireArgType.NewId when arg.IsGenericNewId:
                    reader.TryReadStringUtf8(false, out var name, out _);
                    reader.TryReadUInt(out _);
                    reader.TryReadNewId(out var boundId);
                    _objects[boundId] = WaylandInterfaces.Find(Encoding.UTF8.GetString(name))!;
                    break;
                case WireArgType.NewId:
                    reader.TryReadNewId(out var id);
                    _objects[id] = WaylandInterfaces.Find(arg.Interface!)!;
                    break;
                case WireArgType.String:
                    reader.TryReadStringUtf8(arg.Nullable, out _, out _);
                    break;
                case WireArgType.Array:
                    reader.TryReadArray(out _);
                    break;
                case WireArgType.Fd:
                    break;
                default:
                    reader.TryReadUInt(out _);
                    break;
            }
        }
    }
}
