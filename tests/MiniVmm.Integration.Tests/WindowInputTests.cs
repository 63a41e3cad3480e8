using System.Buffers.Binary;
using System.Diagnostics;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Input;
using MiniVmm.Machine.Display;
using MiniVmm.Memory;
using MiniVmm.TestSupport;
using MiniVmm.Virtio;
using MiniVmm.Wayland.Tests.Support;

namespace MiniVmm.Integration.Tests;

/// <summary>
/// Input end to end on the host: X events synthesised with xdotool into Weston's x11 backend (under Xvfb) reach the
/// MiniVmm window through Weston's seat, and come out of the virtio-input keyboard and tablet as the evdev events a
/// guest driver would read from its event queue.
/// </summary>
[Collection("Weston")]
public sealed class WindowInputTests
{
    private const int Width = 1024, Height = 768;

    [Fact]
    public void KeysClicksAndMotionOnTheWindowArriveAsEvdevEvents()
    {
        Assert.True(File.Exists("/usr/bin/xdotool"), "xdotool is not installed (tools/deps.sh installs it)");
        // kiosk-shell makes the window fill the output, so a position in Weston's X window is the same in ours.
        using var weston = WestonCompositor.Start(Width, Height, shell: "kiosk-shell.so", backend: WestonBackend.X11);
        using var memory = GuestMemory.CreateFlat(1 << 20);
        var keyboard = new DeviceUnderTest(VirtioInputDevice.Keyboard(), memory, 0x1000);
        var tablet = new DeviceUnderTest(VirtioInputDevice.Tablet(), memory, 0x80000);

        using var display = WaylandDisplay.Open(weston.SocketPath);
        display.ConnectInput(new WindowInputDevices(keyboard.Device, tablet.Device));
        var frame = new byte[Width * Height * 4];
        display.Present(0, frame, Width, Height, Width * 4, VirtioGpuFormat.B8G8R8X8_UNORM, new VirtioGpuRect(0, 0, Width, Height));
        Thread.Sleep(1000); // the toplevel maps and kiosk-shell gives it focus

        // Weston's output is the only X client window (it sets a class, no name).
        string window = XDoTool(weston, "search", "--class", ".").Split('\n', StringSplitOptions.RemoveEmptyEntries)[0];
        XDoTool(weston, "mousemove", "--window", window, "100", "100"); // Xvfb starts the pointer at the centre: move away first
        XDoTool(weston, "mousemove", "--window", window, "512", "384");
        XDoTool(weston, "click", "1");
        XDoTool(weston, "key", "a");

        var keys = keyboard.WaitFor(e => e == new InputEvent(EventTypes.Key, 30, 0), "KEY_A released");
        Assert.Contains(new InputEvent(EventTypes.Key, 30, 1), keys); // KEY_A pressed
        var pointer = tablet.WaitFor(e => e == new InputEvent(EventTypes.Key, InputCodes.ButtonLeft, 0), "BTN_LEFT released");
        Assert.Contains(new InputEvent(EventTypes.Key, InputCodes.ButtonLeft, 1), pointer);
        // 512 of 0..1023 → about half of 0..32767 (one pixel either way for Weston's rounding of the X position).
        var x = pointer.Last(e => e.Type == EventTypes.Abs && e.Code == InputCodes.AbsX).Value;
        var y = pointer.Last(e => e.Type == EventTypes.Abs && e.Code == InputCodes.AbsY).Value;
        Assert.InRange(x, 16399u - 64, 16399u + 64);
        Assert.InRange(y, 16405u - 64, 16405u + 64);
        Assert.Equal(InputEvent.Sync, pointer[^1]);
    }

    private static string XDoTool(WestonCompositor weston, params string[] arguments)
    {
        var start = new ProcessStartInfo("xdotool", arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["DISPLAY"] = weston.XDisplay;
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(10_000) && process.ExitCode == 0, $"xdotool {string.Join(' ', arguments)}: {error}");
        return output;
    }

    /// <summary>A device activated on a driver-side queue with 64 posted 8-byte buffers, as the Linux driver does.</summary>
    private sealed class DeviceUnderTest
    {
        private readonly MockSplitQueue _events;
        private readonly List<MockChain> _posted = [];
        private readonly List<InputEvent> _seen = [];

        public DeviceUnderTest(VirtioInputDevice device, GuestMemory memory, ulong at)
        {
            Device = device;
            _events = new MockSplitQueue(memory, VirtioInputDevice.QueueSize, at, at + 0x20000);
            var status = new MockSplitQueue(memory, VirtioInputDevice.QueueSize, at + 0x20000, at + 0x40000);
            device.Activate(new VirtioActivation(0, [_events.CreateQueue(), status.CreateQueue()], new FakeVirtioInterrupt()));
            for (int i = 0; i < VirtioInputDevice.QueueSize; i++)
                _posted.Add(_events.AddChain(MockBuffer.WritableSpace(InputEvent.Size)));
            device.QueueNotify(VirtioInputDevice.EventQueue);
        }

        public VirtioInputDevice Device { get; }

        /// <summary>Every event so far, once <paramref name="last"/> is among them (10 s at most).</summary>
        public List<InputEvent> WaitFor(Func<InputEvent, bool> last, string what)
        {
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < TimeSpan.FromSeconds(10))
            {
                foreach (var used in _events.TakeUsed())
                {
                    var bytes = new byte[InputEvent.Size];
                    _events.Memory.Read(_posted.Single(chain => chain.Head == used.Id).BufferAddresses[0], bytes);
                    _seen.Add(new InputEvent(BinaryPrimitives.ReadUInt16LittleEndian(bytes), BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2)),
                        BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4))));
                }
                if (_seen.Any(last))
                    return [.. _seen];
                Thread.Sleep(20);
            }
            throw new TimeoutException($"{Device.Config.Name}: no {what} within 10 s; saw {string.Join(", ", _seen)}");
        }
    }
}
