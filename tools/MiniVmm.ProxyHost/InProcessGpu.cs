using System.Runtime.CompilerServices;
using MiniVmm.Gpu;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Memory;
using MiniVmm.TestSupport;
using MiniVmm.Virtio;

namespace MiniVmm.ProxyHost;

/// <summary>
/// MiniVmm's virtio-gpu device model in this process, driven the way the Linux virtio_gpu driver drives it: a
/// <see cref="VirtioGpuDevice"/> over <see cref="MockSplitQueue"/> queues in a private <see cref="GuestMemory"/>,
/// its used-ring interrupt as a wake-up for whoever waits (<see cref="WaitForInterrupt"/>: no polling, no sleeps),
/// <see cref="InProcessRegion"/> as the host-visible region. The in-process transport and the tests' model of the
/// Linux DRM driver both sit on it.
/// </summary>
internal sealed partial class InProcessGpu : IDisposable
{
    /// <summary>Guest RAM: the control queue and its slots below 6 MiB, the cursor queue, then free pages for guest blobs.</summary>
    public const ulong MemorySize = 16 << 20, GuestPagesStart = 8 << 20, RegionSize = 64 << 20;

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(5);
    private readonly Lock _lock = new();
    private readonly Lock _usedLock = new(); // the used ring and _completed: taken by waiters and by the interrupt, never with _lock; the interrupt takes _waiters inside it
    private readonly HashSet<ushort> _completed = []; // guarded by _usedLock: heads the device has put in the used ring
    private readonly HashSet<ushort> _inFlight = []; // guarded by _lock: heads of chains not yet seen completed
    private ushort _nextHead; // guarded by _lock: where the control queue writes its next chain
    // The device's loop for compositor sockets and pipes, given so Dispose can end it: left to the device, its
    // thread, epoll fd, eventfd and the pipes still watched would outlive every client.
    private readonly EventLoop _events = new("proxy-xdomain");
    private readonly GuestMemory _memory;
    private readonly MockSplitQueue _control;
    private readonly VirtioGpuDevice _device;

    /// <param name="sockets">The compositors the device model reaches, by channel (as MiniVmm's --wayland-socket gives them).</param>
    public InProcessGpu(CompositorSockets sockets, Action<string>? log)
    {
        _memory = GuestMemory.CreateFlat(MemorySize);
        _control = new MockSplitQueue(_memory, 256, 0x1000, 6 << 20);
        CreateSlots();
        var cursor = new MockSplitQueue(_memory, 16, 6 << 20, GuestPagesStart);
        // The device enforces crosvm's rules here too (HOST3D blob ids from GET_IMAGE_REQUIREMENTS, one READ_PIPE per SEND).
        var options = new GpuOptions { Blob = true, Contexts = true, HostMemoryBytes = RegionSize, WaylandSockets = sockets };
        _device = new VirtioGpuDevice(options, tracer: log, region: Region, events: _events);
        var features = _device.DeviceFeatures | (1UL << 32); // VIRTIO_F_VERSION_1, as the driver negotiates
        _device.Activate(new VirtioActivation(features, [_control.CreateQueue(), cursor.CreateQueue()], new Interrupt(this)));
    }

    public GuestMemory Memory => _memory;
    public VirtioGpuDevice Device => _device;
    public InProcessRegion Region { get; } = new(RegionSize);

    /// <summary>A command the device answers at once (no fence): queue, kick, wait (bounded), read the header.</summary>
    public VirtioGpuCtrlHdr Submit(byte[] command, int responseSize = 24, byte[]? extra = null)
    {
        var chain = Start(command, extra, responseSize);
        if (!WaitFor(chain, CommandTimeout))
            throw new TimeoutException("the device did not answer a control command");
        return Finish(chain);
    }

    /// <summary>As <see cref="Submit"/>, for a command whose response is more than a header.</summary>
    public T Submit<T>(byte[] command) where T : unmanaged
    {
        var chain = Start(command, null, Unsafe.SizeOf<T>());
        if (!WaitFor(chain, CommandTimeout))
            throw new TimeoutException("the device did not answer a control command");
        return Finish<T>(chain);
    }

    public void Dispose()
    {
        // Reset returns waiting POLLs and closes the compositor connection; then the guest memory can go.
        _device.Reset();
        _events.Dispose();
        _memory.Dispose();
        Region.Dispose();
        // The threads that waited are gone by now (a session disposes its transport after joining them), so the
        // eventfds they rented can close.
        lock (_waiters)
        {
            foreach (var wake in _allWakeEvents)
                wake.Dispose();
            _allWakeEvents.Clear();
            _idleWakeEvents.Clear();
        }
    }

    /// <summary>
    /// The device's queue interrupt: wakes every thread in <see cref="WaitForInterrupt"/>. The device raises it from
    /// the thread that kicked the queue (commands it answers at once) or from its event loop (held POLL fences).
    /// </summary>
    private sealed class Interrupt(InProcessGpu gpu) : IVirtioInterrupt
    {
        public void SignalQueue(int queueIndex) => gpu.Signal();
        public void SignalConfigChange() { }
        public void SignalNeedsReset(string reason) => throw new InvalidOperationException("device needs reset: " + reason);
    }
}
