using MiniVmm.Input;
using MiniVmm.Wayland;

namespace MiniVmm.Machine.Display;

/// <summary>A window's input to the virtio-input devices: keys to the keyboard, the pointer to the tablet.</summary>
public sealed class WindowInputDevices(VirtioInputDevice keyboard, VirtioInputDevice tablet) : IWindowInput
{
    public void Key(uint code, bool pressed) => keyboard.Send(WindowInput.Key(code, pressed));
    public void PointerMotion(double x, double y, int width, int height) => tablet.Send(WindowInput.Motion(x, y, width, height));
    public void PointerButton(uint code, bool pressed) => tablet.Send(WindowInput.Button(code, pressed));
    public void PointerWheel(int vertical, int horizontal) => tablet.Send(WindowInput.Wheel(vertical, horizontal));
}
