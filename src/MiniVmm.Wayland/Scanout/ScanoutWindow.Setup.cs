using MiniVmm.Wayland.Protocol;

namespace MiniVmm.Wayland;

/// <summary>Globals, the xdg toplevel, and the compositor's configure/ping/close/release events.</summary>
public sealed partial class ScanoutWindow
{
    // wl_surface.damage_buffer needs wl_compositor 4; nothing newer is used, so nothing newer is bound.
    private const uint CompositorVersion = 4;

    private readonly Dictionary<string, (uint Name, uint Version)> _globals = [];
    private uint _compositor;
    private uint _shm;
    private uint _wmBase;
    private uint _surface;
    private uint _xdgSurface;
    private uint _toplevel;
    private WindowSeat? _seat;

    private void SetUp()
    {
        var registry = _connection.Create(WlRegistry.Info, WlRegistry.EventDispatcher(_listener));
        WlDisplay.GetRegistry(_connection.Writer, WaylandConnection.DisplayId, registry);
        RoundtripOrThrow("listing globals");
        _compositor = Bind(registry, WlCompositor.Info, CompositorVersion, CompositorVersion, null);
        _shm = Bind(registry, WlShm.Info, 1, 1, null);
        _wmBase = Bind(registry, XdgWmBase.Info, 1, XdgWmBase.Version, XdgWmBase.EventDispatcher(_listener));
        if (_globals.ContainsKey(WlSubcompositor.Info.Name))
            _subcompositor = Bind(registry, WlSubcompositor.Info, 1, 1, null); // optional: only the guest cursor needs it
        if (_options.Input is { } input)
            _seat = WindowSeat.Bind(_connection, input, () => _buffers is { } buffers ? (buffers.Width, buffers.Height) : (0, 0), registry, _globals);

        var writer = _connection.Writer;
        _surface = _connection.Create(WlSurface.Info, null);
        WlCompositor.CreateSurface(writer, _compositor, _surface);
        _xdgSurface = _connection.Create(XdgSurface.Info, XdgSurface.EventDispatcher(_listener));
        XdgWmBase.GetXdgSurface(writer, _wmBase, _xdgSurface, _surface);
        _toplevel = _connection.Create(XdgToplevel.Info, XdgToplevel.EventDispatcher(_listener));
        XdgSurface.GetToplevel(writer, _xdgSurface, _toplevel);
        XdgToplevel.SetTitle(writer, _toplevel, _options.Title);
        XdgToplevel.SetAppId(writer, _toplevel, _options.AppId);
        // xdg-shell: the first commit carries no buffer; the compositor answers with the first configure.
        WlSurface.Commit(writer, _surface);
        RoundtripOrThrow("creating the window");
    }

    private uint Bind(uint registry, InterfaceInfo iface, uint minimum, uint maximum, MessageDispatcher? events)
    {
        if (!_globals.TryGetValue(iface.Name, out var global) || global.Version < minimum)
        {
            throw new WaylandException(
                $"the compositor at {_connection.Path} does not offer {iface.Name} version {minimum} or later");
        }
        var id = _connection.Create(iface, events);
        WlRegistry.Bind(_connection.Writer, registry, global.Name, iface.Name, Math.Min(global.Version, maximum), id);
        return id;
    }

    private void RoundtripOrThrow(string step)
    {
        if (!_connection.Roundtrip(_options.SetupTimeout))
        {
            var reason = _connection.CloseReason ?? $"no answer within {_options.SetupTimeout.TotalSeconds:0.#} s";
            throw new WaylandException($"the compositor at {_connection.Path} failed while {step}: {reason}");
        }
    }

    /// <summary>Destroys the window's objects (if the connection still works) and closes the connection.</summary>
    private void TearDownLocked(ScanoutWindowState state, string reason)
    {
        if (!_connection.IsClosed)
        {
            var writer = _connection.Writer;
            DestroyCursorLocked();
            _seat?.Release();
            _buffers?.Destroy(_connection);
            _buffers = null;
            XdgToplevel.Destroy(writer, _toplevel);
            XdgSurface.Destroy(writer, _xdgSurface);
            WlSurface.Destroy(writer, _surface);
            _connection.Flush();
        }
        SetStateLocked(state, reason);
        _connection.Close(reason);
    }

    /// <summary>Compositor events; the connection calls these under <c>_lock</c>.</summary>
    private sealed class Listener(ScanoutWindow window)
        : WlRegistry.IEventHandler, XdgWmBase.IEventHandler, XdgSurface.IEventHandler, XdgToplevel.IEventHandler,
          WlBuffer.IEventHandler
    {
        public void Global(uint self, uint name, string @interface, uint version) =>
            window._globals[@interface] = (name, version);

        public void Ping(uint self, uint serial) => XdgWmBase.Pong(window._connection.Writer, self, serial);

        public void Configure(uint self, int width, int height, ReadOnlySpan<byte> states) =>
            window.OnToplevelConfigure(width, height, states);

        public void Configure(uint self, uint serial) => window.OnSurfaceConfigure(serial);

        public void Close(uint self) =>
            window.TearDownLocked(ScanoutWindowState.Closed, "the compositor closed the window (xdg_toplevel.close)");

        public void Release(uint self)
        {
            if (!window.OnCursorBufferRelease(self))
                window.OnBufferRelease(self);
        }
    }
}
