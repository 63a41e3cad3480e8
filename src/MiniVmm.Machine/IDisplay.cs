using MiniVmm.Gpu.Backend;
using MiniVmm.Wayland;

namespace MiniVmm.Machine;

/// <summary>
/// Where the guest's scanout is shown (a window on the host compositor). The machine hands it to the
/// GPU as its sink; a display only has to copy what it is given and return.
/// </summary>
public interface IDisplay : IScanoutSink, IDisposable
{
    /// <summary>One line for the user, e.g. "window on wayland-0".</summary>
    string Description { get; }

    /// <summary>Where the windows' keyboard and pointer input goes from now on (the machine's virtio-input devices).</summary>
    void ConnectInput(IWindowInput input);
}
