using MiniVmm.Wayland.Protocol;

namespace MiniVmm.Wayland;

/// <summary>What a scanout window passes on of its seat's input (Linux evdev codes, as Wayland sends them).</summary>
public interface IWindowInput
{
    void Key(uint code, bool pressed);

    /// <summary>The pointer at (<paramref name="x"/>, <paramref name="y"/>) of a <paramref name="width"/> x <paramref name="height"/> surface.</summary>
    void PointerMotion(double x, double y, int width, int height);

    void PointerButton(uint code, bool pressed);

    /// <summary>Wheel steps: positive scrolls down (vertical) or right (horizontal).</summary>
    void PointerWheel(int vertical, int horizontal);
}

/// <summary>
/// The host seat of one scanout window: binds wl_seat (version 4: key, button, motion and axis events, and
/// wl_pointer/wl_keyboard.release), takes the keyboard and pointer when the compositor has them, and passes their events
/// on. Events come only while the window has focus (each window has its own connection); keys still held when focus
/// leaves are released, so the guest never sees a stuck key. Runs on the window's dispatch thread, under its lock.
/// </summary>
internal sealed class WindowSeat
{
    private const uint SeatVersion = 4;
    /// <summary>Wayland axis units per wheel notch (libinput's and Weston's value).</summary>
    private const double AxisUnitsPerStep = 10;

    private readonly WaylandConnection _connection;
    private readonly IWindowInput _input;
    private readonly Func<(int Width, int Height)> _surfaceSize;
    private readonly HashSet<uint> _pressed = [];
    private readonly uint _seat;
    private uint _pointer, _keyboard;

    private WindowSeat(WaylandConnection connection, IWindowInput input, Func<(int, int)> surfaceSize, uint registry, uint name, uint version)
    {
        _connection = connection;
        _input = input;
        _surfaceSize = surfaceSize;
        _seat = connection.Create(WlSeat.Info, WlSeat.EventDispatcher(new SeatEvents(this)));
        WlRegistry.Bind(connection.Writer, registry, name, WlSeat.Info.Name, Math.Min(version, SeatVersion), _seat);
    }

    /// <summary>The seat, when the compositor offers one (Weston's headless backend does not: then no input).</summary>
    public static WindowSeat? Bind(WaylandConnection connection, IWindowInput input, Func<(int, int)> surfaceSize, uint registry,
        IReadOnlyDictionary<string, (uint Name, uint Version)> globals) =>
        globals.TryGetValue(WlSeat.Info.Name, out var seat) && seat.Version >= 3
            ? new WindowSeat(connection, input, surfaceSize, registry, seat.Name, seat.Version)
            : null;

    /// <summary>
    /// Gives the devices back (the window is closing). The seat itself stays: wl_seat.release needs version 5, this binds
    /// at most 4, and the connection closes right after.
    /// </summary>
    public void Release()
    {
        ReleaseKeys();
        if (_pointer != 0)
            WlPointer.Release(_connection.Writer, _pointer);
        if (_keyboard != 0)
            WlKeyboard.Release(_connection.Writer, _keyboard);
        _pointer = _keyboard = 0;
    }

    private void OnCapabilities(WlSeat.Capability capabilities)
    {
        if ((capabilities & WlSeat.Capability.Pointer) != 0 && _pointer == 0)
        {
            _pointer = _connection.Create(WlPointer.Info, WlPointer.EventDispatcher(new PointerEvents(this)));
            WlSeat.GetPointer(_connection.Writer, _seat, _pointer);
        }
        if ((capabilities & WlSeat.Capability.Keyboard) != 0 && _keyboard == 0)
        {
            _keyboard = _connection.Create(WlKeyboard.Info, WlKeyboard.EventDispatcher(new KeyboardEvents(this)));
            WlSeat.GetKeyboard(_connection.Writer, _seat, _keyboard);
        }
    }

    private void OnKey(uint code, bool pressed)
    {
        if (pressed ? _pressed.Add(code) : _pressed.Remove(code))
            _input.Key(code, pressed);
    }

    private void ReleaseKeys()
    {
        foreach (uint code in _pressed)
            _input.Key(code, pressed: false);
        _pressed.Clear();
    }

    private void OnMotion(WlFixed x, WlFixed y)
    {
        var (width, height) = _surfaceSize();
        _input.PointerMotion(x.ToDouble(), y.ToDouble(), width, height);
    }

    private void OnAxis(WlPointer.Axis axis, WlFixed value)
    {
        double units = value.ToDouble();
        int steps = (int)Math.Round(units / AxisUnitsPerStep);
        if (steps == 0 && units != 0)
            steps = Math.Sign(units); // a touchpad's small movements still scroll
        if (axis == WlPointer.Axis.VerticalScroll)
            _input.PointerWheel(steps, 0);
        else
            _input.PointerWheel(0, steps);
    }

    private sealed class SeatEvents(WindowSeat seat) : WlSeat.IEventHandler
    {
        public void Capabilities(uint self, WlSeat.Capability capabilities) => seat.OnCapabilities(capabilities);
    }

    private sealed class PointerEvents(WindowSeat seat) : WlPointer.IEventHandler
    {
        public void Enter(uint self, uint serial, uint surface, WlFixed surfaceX, WlFixed surfaceY) => seat.OnMotion(surfaceX, surfaceY);
        public void Motion(uint self, uint time, WlFixed surfaceX, WlFixed surfaceY) => seat.OnMotion(surfaceX, surfaceY);
        public void Button(uint self, uint serial, uint time, uint button, WlPointer.ButtonState state) =>
            seat._input.PointerButton(button, state == WlPointer.ButtonState.Pressed);
        public void Axis(uint self, uint time, WlPointer.Axis axis, WlFixed value) => seat.OnAxis(axis, value);
    }

    private sealed class KeyboardEvents(WindowSeat seat) : WlKeyboard.IEventHandler
    {
        public void Key(uint self, uint serial, uint time, uint key, WlKeyboard.KeyState state) =>
            seat.OnKey(key, state == WlKeyboard.KeyState.Pressed);
        public void Leave(uint self, uint serial, uint surface) => seat.ReleaseKeys();
    }
}
