using MiniVmm.Sys;
using MiniVmm.Wayland.Protocol;

namespace MiniVmm.Wayland;

/// <summary>
/// A top-level window on the host compositor that shows one scanout. <see cref="Present"/> copies a frame into a
/// free shared-memory buffer and commits it; the compositor going away or failing never throws out of this type
/// after construction — the window just leaves <see cref="ScanoutWindowState.Running"/>.
/// </summary>
/// <remarks>
/// Threads: <see cref="Present"/> runs on the caller's thread (the GPU device loop); events are dispatched by the
/// window's own thread or by the owner's loop through <see cref="Dispatch"/>. <c>_lock</c> guards the connection
/// and every field below it; the dispatch thread holds it only while reading and dispatching, never while polling.
/// </remarks>
public sealed partial class ScanoutWindow : IDisposable
{
    private readonly Lock _lock = new();
    private readonly ScanoutWindowOptions _options;
    private readonly WaylandConnection _connection;
    private readonly Listener _listener;
    private readonly EventFd _wake = new(nonBlocking: true);
    private readonly Thread? _thread;
    private ScanoutWindowState _state;
    private ScanoutWindowState _reportedState;
    private bool _stopping;

    /// <summary>Connects, creates the toplevel and returns once the compositor has seen it.</summary>
    /// <exception cref="WaylandException">The compositor is unreachable, lacks a required global, or does not answer.</exception>
    public ScanoutWindow(ScanoutWindowOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _listener = new Listener(this);
        _connection = WaylandConnection.Connect(options.SocketPath);
        _connection.Trace = options.Trace;
        try
        {
            lock (_lock)
                SetUp();
        }
        catch
        {
            _connection.Dispose();
            _wake.Dispose();
            throw;
        }
        if (options.DispatchThread)
        {
            _thread = new Thread(DispatchLoop) { IsBackground = true, Name = "wayland-scanout" };
            _thread.Start();
        }
    }

    public ScanoutWindowState State
    {
        get
        {
            lock (_lock)
                return _state;
        }
    }

    /// <summary>Why the window left <see cref="ScanoutWindowState.Running"/>, or null while it runs.</summary>
    public string? StateReason { get; private set; }

    /// <summary>Raised (outside the lock, on whichever thread noticed) when <see cref="State"/> changes.</summary>
    public event EventHandler<ScanoutWindowState>? StateChanged;

    /// <summary>The compositor socket, for an external poll/epoll loop (see <see cref="ScanoutWindowOptions.DispatchThread"/>).</summary>
    public Fd PollHandle => _connection.Handle;

    /// <summary>True while requests wait for the socket: poll for POLLOUT too.</summary>
    public bool WantsWrite
    {
        get
        {
            lock (_lock)
                return _connection.HasPendingOutput;
        }
    }

    /// <summary>Stopwatch ticks the last successful <see cref="Present"/> took from entry to wl_surface.commit sent.</summary>
    public long LastPresentTicks { get; private set; }

    /// <summary>For an external event loop: reads and dispatches what the socket holds, then flushes.</summary>
    public ScanoutWindowState Dispatch()
    {
        lock (_lock)
            PumpLocked(Poll.In);
        NotifyStateChange();
        return State;
    }

    /// <summary>Waits until the compositor has processed every request sent so far (wl_display.sync); false on timeout or loss.</summary>
    public bool Roundtrip(TimeSpan timeout)
    {
        if (_thread is null)
        {
            bool ok;
            lock (_lock)
            {
                ok = _state == ScanoutWindowState.Running && _connection.Roundtrip(timeout);
                CheckConnectionLocked();
            }
            NotifyStateChange();
            return ok;
        }
        var waiter = new SyncWaiter();
        lock (_lock)
        {
            if (_state != ScanoutWindowState.Running)
                return false;
            var callback = _connection.Create(WlCallback.Info, WlCallback.EventDispatcher(waiter));
            WlDisplay.Sync(_connection.Writer, WaylandConnection.DisplayId, callback);
            FlushLocked();
        }
        return waiter.Fired.Wait(timeout) && State == ScanoutWindowState.Running;
    }

    /// <summary>Stops dispatching, destroys the window and closes the connection. Bounded: never waits on the compositor.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_stopping)
                return;
            _stopping = true;
            if (_state == ScanoutWindowState.Running)
                TearDownLocked(ScanoutWindowState.Closed, "the window was disposed");
        }
        _wake.Wake();
        // Dispose may come from a StateChanged handler on the dispatch thread itself, which must not wait for itself.
        if (_thread is not null && _thread != Thread.CurrentThread)
            _thread.Join(TimeSpan.FromSeconds(2));
        lock (_lock)
        {
            _buffers?.Dispose();
            _buffers = null;
            DestroyCursorLocked();
            _connection.Dispose();
        }
        _wake.Dispose();
    }

    /// <summary>Lets tests send raw requests (e.g. one the compositor must reject) on the window's connection.</summary>
    internal void SendForTest(Action<WireWriter, uint> write)
    {
        lock (_lock)
        {
            write(_connection.Writer, _surface);
            FlushLocked();
        }
        NotifyStateChange();
    }

    private void Log(string message) => _options.Log?.WriteLine(_options.LogPrefix + message);

    /// <summary>Moves to a final state once; the reason is logged unless the owner asked for it (Dispose).</summary>
    private void SetStateLocked(ScanoutWindowState state, string reason)
    {
        if (_state != ScanoutWindowState.Running)
            return;
        _state = state;
        StateReason = reason;
        if (!_stopping)
            Log(reason);
        _wake.Wake();
    }

    /// <summary>Turns a closed connection into the matching window state.</summary>
    private void CheckConnectionLocked()
    {
        if (!_connection.IsClosed || _state != ScanoutWindowState.Running)
            return;
        var state = _connection.ProtocolError is null ? ScanoutWindowState.Disconnected : ScanoutWindowState.Failed;
        SetStateLocked(state, _connection.CloseReason!);
    }

    private void NotifyStateChange()
    {
        ScanoutWindowState state;
        lock (_lock)
        {
            if (_reportedState == _state)
                return;
            _reportedState = state = _state;
        }
        StateChanged?.Invoke(this, state);
    }

    // Set-up: globals, the xdg toplevel, and the compositor's configure/ping/close/release events.
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

    private sealed class SyncWaiter : WlCallback.IEventHandler
    {
        private readonly TaskCompletionSource _fired = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Fired => _fired.Task;

        public void Done(uint self, uint callbackData) => _fired.TrySetResult();
    }
}
