using MiniVmm.Sys;
using MiniVmm.Wayland.Protocol;

namespace MiniVmm.Wayland;

/// <summary>
/// A client connection to a compositor: the socket, an outgoing <see cref="WireWriter"/>, an incoming buffer and
/// fd queue, and the table of live objects (id → interface and event dispatcher). Not thread-safe: one owner
/// (e.g. <see cref="ScanoutWindow"/> under its lock) drives it. Compositor misbehaviour and disconnection close the
/// connection with a <see cref="CloseReason"/>; only caller bugs throw.
/// </summary>
public sealed partial class WaylandConnection : IDisposable
{
    /// <summary>wl_display is always object 1.</summary>
    public const uint DisplayId = 1;

    private readonly UnixSocket _socket;
    private readonly FdQueue _fds = new();
    private readonly ObjectIdAllocator _ids = new();
    private readonly Dictionary<uint, (InterfaceInfo Interface, MessageDispatcher? Dispatcher)> _objects = [];
    // Objects we destroyed whose delete_id has not come yet: their events are dropped, fds included.
    private readonly Dictionary<uint, InterfaceInfo> _zombies = [];

    public WaylandConnection(UnixSocket socket, string path)
    {
        _socket = socket;
        Path = path;
        _objects[DisplayId] = (WlDisplay.Info, WlDisplay.EventDispatcher(new DisplayEvents(this)));
    }

    /// <summary>Connects to <paramref name="path"/>; an unreachable compositor is a one-line <see cref="WaylandException"/>.</summary>
    public static WaylandConnection Connect(string path) => new(ConnectSocket(path), path);

    /// <summary>The socket alone (the cross-domain channel speaks the bytes itself); unreachable is a <see cref="WaylandException"/> as above.</summary>
    public static UnixSocket ConnectSocket(string path)
    {
        try
        {
            return UnixSocket.Connect(path);
        }
        catch (ErrnoException error)
        {
            throw new WaylandException($"cannot connect to the Wayland compositor at {path}: {Errno.Describe(error.Errno)}", error)
            {
                Errno = error.Errno,
            };
        }
    }

    public string Path { get; }

    /// <summary>Requests are encoded here and sent by <see cref="Flush"/>.</summary>
    public WireWriter Writer { get; } = new();

    /// <summary>The socket, for registering with poll/epoll.</summary>
    public Fd Handle => _socket.Handle;

    /// <summary>When set, every message sent and dispatched is written here, one line each.</summary>
    public TextWriter? Trace { get; set; }

    public bool IsClosed => CloseReason is not null;

    public string? CloseReason { get; private set; }

    /// <summary>The wl_display.error that closed the connection, if that is what happened.</summary>
    public WaylandProtocolError? ProtocolError { get; private set; }

    /// <summary>Allocates an id for a new object the next request creates, and routes its events to <paramref name="dispatcher"/>.</summary>
    public uint Create(InterfaceInfo iface, MessageDispatcher? dispatcher)
    {
        var id = _ids.Allocate();
        _objects[id] = (iface, dispatcher);
        return id;
    }

    /// <summary>Replaces the event dispatcher of a live object (null drops its events).</summary>
    public void SetDispatcher(uint id, MessageDispatcher? dispatcher)
    {
        if (_objects.TryGetValue(id, out var entry))
            _objects[id] = (entry.Interface, dispatcher);
    }

    /// <summary>Call after sending a destructor request: events still in flight are dropped until delete_id.</summary>
    public void Forget(uint id)
    {
        if (id != DisplayId && _objects.Remove(id, out var entry))
            _zombies[id] = entry.Interface;
    }

    public InterfaceInfo? GetInterface(uint id) =>
        _objects.TryGetValue(id, out var entry) ? entry.Interface : _zombies.GetValueOrDefault(id);

    /// <summary>Marks the connection dead (first reason wins) and drops unsent output.</summary>
    public void Close(string reason)
    {
        if (IsClosed)
            return;
        CloseReason = reason;
        Writer.Clear();
        _fds.Dispose();
    }

    public void Dispose()
    {
        Close("the connection was disposed");
        Writer.Dispose();
        _socket.Dispose();
    }

    private sealed class DisplayEvents(WaylandConnection connection) : WlDisplay.IEventHandler
    {
        public void Error(uint self, uint objectId, uint code, string message)
        {
            var error = new WaylandProtocolError(objectId, connection.GetInterface(objectId)?.Name ?? "?", code, message);
            connection.ProtocolError = error;
            connection.Close("the compositor reported a protocol error: " + error);
        }

        public void DeleteId(uint self, uint id)
        {
            // A compositor-destroyed object (wl_callback after done) may still be live here.
            if (id != DisplayId && (connection._zombies.Remove(id) | connection._objects.Remove(id)))
                connection._ids.Release(id);
        }
    }
}
