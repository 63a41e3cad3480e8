using MiniVmm.Gpu.Backend;
using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Gpu.Frontend;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Gpu.Winsrv;
using MiniVmm.Virtio;
using MiniVmm.Virtio.Queue;

namespace MiniVmm.Gpu;

/// <summary>
/// virtio-gpu (device type 16): the virtio side (features, config space, queues, interrupts) over the
/// frontend (decode, fences, encode) and the backend (<see cref="VirtioGpuBackend"/>). Two queues: controlq and
/// cursorq. A chain the queue rejects is a driver bug: the head is returned with used.len = 0, the device
/// asks for NEEDS_RESET, and keeps serving what follows.
/// Threading: <see cref="_lock"/> guards the activation state (<see cref="_queues"/>, <see cref="_interrupt"/>,
/// <see cref="_negotiatedFeatures"/>) and serialises queue processing: every pop and add-used of the control queue,
/// including the deferred cross-domain fences the event-loop thread completes (<see cref="_fences"/>); events_read is an Interlocked field so
/// config reads never wait for a batch; the backend has its own locks (see <see cref="VirtioGpuBackend"/>).
/// </summary>
public sealed class VirtioGpuDevice : IVirtioDevice
{
    private readonly Lock _lock = new();
    private readonly GpuOptions _options;
    private readonly VirtioGpuBackend _backend;
    private readonly GpuFrontend _frontend;
    private readonly WinsrvFrontend? _winsrv; // winsrv=on: queues 2-3 and CONNECT/DISCONNECT (Winsrv/)
    private readonly Action<string>? _tracer;
    private Virtqueue?[] _queues = []; // guarded by _lock
    private IVirtioInterrupt? _interrupt; // guarded by _lock
    private ulong _negotiatedFeatures; // guarded by _lock
    private readonly DeferredFences _fences = new(); // guarded by _lock
    private int _eventsRead; // Interlocked: VIRTIO_GPU_EVENT_* bits the driver has not cleared

    /// <param name="tracer">For --trace gpu: called with one line per command (decoded fields and response).</param>
    /// <param name="region">
    /// The host-visible region for RESOURCE_MAP_BLOB (KVM: MiniVmm.Machine.Gpu.KvmHostVisibleRegion), null without
    /// one. Its <see cref="IHostVisibleRegion.Size"/> is the shared-memory BAR's length, GpuOptions.HostMemoryBytes.
    /// </param>
    /// <param name="events">
    /// The loop on which cross-domain contexts watch their compositor sockets (the machine's device loop); null:
    /// the device starts its own thread the first time a context needs one.
    /// </param>
    public VirtioGpuDevice(GpuOptions options, IScanoutSink? sink = null, Action<string>? tracer = null, IHostVisibleRegion? region = null,
        EventLoop? events = null)
    {
        _options = options;
        _backend = new VirtioGpuBackend(options, sink, region);
        _backend.ConfigureCrossDomain(events, OnCrossDomainReadable);
        _tracer = tracer;
        _frontend = new GpuFrontend(_backend, tracer);
        _winsrv = options.Winsrv ? new WinsrvFrontend(options, _backend, tracer) : null;
        _frontend.Winsrv = _winsrv;
        if (events is not null)
            _winsrv?.UseEventLoop(events);
    }

    public uint DeviceType => VirtioGpuConstants.VIRTIO_ID_GPU;

    /// <summary>
    /// EDID (edid=on); RESOURCE_BLOB and RESOURCE_UUID (blob=on: ASSIGN_UUID is answered for every resource);
    /// VIRGL and CONTEXT_INIT (contexts=on: Linux creates no context, cross-domain included, without VIRGL, so it
    /// is offered with no virgl renderer and 3D commands answer errors). Offer nothing that is not implemented.
    /// </summary>
    public ulong DeviceFeatures =>
        (_options.Edid ? 1UL << VirtioGpuConstants.VIRTIO_GPU_F_EDID : 0)
        | (_options.Blob ? 1UL << VirtioGpuConstants.VIRTIO_GPU_F_RESOURCE_BLOB | 1UL << VirtioGpuConstants.VIRTIO_GPU_F_RESOURCE_UUID : 0)
        | (_options.Contexts ? 1UL << VirtioGpuConstants.VIRTIO_GPU_F_VIRGL | 1UL << VirtioGpuConstants.VIRTIO_GPU_F_CONTEXT_INIT : 0)
        | (_options.Winsrv ? 1UL << _options.WinsrvNumbers.FeatureBit : 0);

    /// <summary>controlq 256 (Linux keeps one entry per in-flight command), cursorq 16; with winsrv, its rx and tx 256 each.</summary>
    public IReadOnlyList<ushort> QueueMaxSizes => _winsrv is null ? [256, 16] : [256, 16, 256, 256];

    /// <summary>The winsrv front door (winsrv=on), e.g. for <see cref="WinsrvFrontend.UseEventLoop"/>; null otherwise.</summary>
    public WinsrvFrontend? Winsrv => _winsrv;

    /// <summary>The scanouts, for screenshots: <c>device.Scanouts[0].Capture()</c>.</summary>
    public IReadOnlyList<Scanout> Scanouts => _backend.Scanouts;

    public VirtioGpuBackend Backend => _backend;

    public ulong NegotiatedFeatures
    {
        get
        {
            lock (_lock)
                return _negotiatedFeatures;
        }
    }

    public void ReadConfig(uint offset, Span<byte> data)
    {
        Span<byte> config = stackalloc byte[16];
        BitConverter.TryWriteBytes(config[0..4], (uint)Volatile.Read(ref _eventsRead));
        BitConverter.TryWriteBytes(config[4..8], 0u); // events_clear reads as 0
        BitConverter.TryWriteBytes(config[8..12], (uint)_options.Scanouts);
        BitConverter.TryWriteBytes(config[12..16], (uint)_backend.CapsetCount); // 1 (cross-domain) with contexts=on
        data.Clear();
        if (offset < config.Length)
        {
            var available = config[(int)offset..];
            available[..Math.Min(available.Length, data.Length)].CopyTo(data);
        }
    }

    /// <summary>Only events_clear (offset 4) is writable: each 1 bit clears that bit of events_read.</summary>
    public void WriteConfig(uint offset, ReadOnlySpan<byte> data)
    {
        uint clear = 0;
        for (int i = 0; i < data.Length; i++)
        {
            ulong byteOffset = offset + (ulong)i;
            if (byteOffset is >= 4 and < 8)
                clear |= (uint)data[i] << (int)((byteOffset - 4) * 8);
        }
        if (clear != 0)
            Interlocked.And(ref _eventsRead, (int)~clear);
    }

    /// <summary>Tells the driver the display changed (it re-reads EDID and display info).</summary>
    public void NotifyDisplayChanged()
    {
        Interlocked.Or(ref _eventsRead, (int)VirtioGpuConstants.VIRTIO_GPU_EVENT_DISPLAY);
        IVirtioInterrupt? interrupt;
        lock (_lock)
            interrupt = _interrupt;
        interrupt?.SignalConfigChange();
    }

    public void Activate(VirtioActivation activation)
    {
        lock (_lock)
        {
            _negotiatedFeatures = activation.NegotiatedFeatures;
            _queues = [.. activation.Queues.Take(2)]; // control and cursor; winsrv takes its own
            _interrupt = activation.Interrupt;
            _winsrv?.Activate(activation);
        }
    }

    public void Reset()
    {
        lock (_lock)
        {
            _queues = [];
            _interrupt = null;
            _negotiatedFeatures = 0;
            Volatile.Write(ref _eventsRead, 0);
            _winsrv?.Reset();
            _fences.Clear();
            _backend.Reset();
        }
    }

    public void QueueNotify(int queueIndex)
    {
        if (_winsrv is { } winsrv && winsrv.OwnsQueue(queueIndex))
        {
            winsrv.QueueNotify(queueIndex); // under its own lock: the event loop fills rx buffers concurrently
            return;
        }
        lock (_lock)
        {
            if (queueIndex < 0 || queueIndex >= _queues.Length || _queues[queueIndex] is not { } queue || _interrupt is null)
                return;
            ServeLocked(queue, queueIndex, _interrupt);
        }
    }

    private void ServeLocked(Virtqueue queue, int queueIndex, IVirtioInterrupt interrupt)
    {
        bool returned = false;
        while (true)
        {
            var pop = queue.TryPop();
            if (pop.Status == PopStatus.Empty)
                break;
            if (pop.Status == PopStatus.Error)
            {
                _tracer?.Invoke($"queue {queueIndex}: {pop.Error}");
                interrupt.SignalNeedsReset($"virtio-gpu queue {queueIndex}: {pop.Error.Message}");
                if (pop.Head is { } head)
                {
                    if (!ReturnLocked(queue, queueIndex, head, 0, interrupt))
                        break;
                    returned = true;
                }
                if (pop.Error.StopsQueue)
                    break; // nothing more can be trusted until the driver fixes its index
                continue;
            }
            var chain = pop.Chain!;
            _frontend.LastSubmit = null;
            uint written = _frontend.Process(chain, queueIndex);
            if (_frontend.LastSubmit is { } submit && queueIndex == VirtioGpuConstants.ControlQueue)
            {
                bool deferred = _fences.TryDefer(submit, chain.HeadIndex, written);
                returned |= CreditLocked(submit.CtxId, _backend.TakeCrossDomainMessages(submit.CtxId), queue, interrupt);
                if (deferred)
                    continue;
            }
            if (!ReturnLocked(queue, queueIndex, chain.HeadIndex, written, interrupt))
                break;
            returned = true;
        }
        if (queueIndex == VirtioGpuConstants.ControlQueue)
            _fences.CompleteGone(_backend.HasContext, (head, length) => returned |= ReturnLocked(queue, queueIndex, head, length, interrupt));
        if (returned && queue.NeedsNotification())
            interrupt.SignalQueue(queueIndex);
    }

    /// <summary>
    /// Event-loop thread: a cross-domain context's socket or pipe became readable, or writable with output queued.
    /// Pumps it (flushing the output, writing channel-ring messages) and returns the chains whose POLLs are now answered, under the same lock as queue processing.
    /// </summary>
    private void OnCrossDomainReadable(CrossDomainContext context)
    {
        lock (_lock)
        {
            int messages = _backend.PumpCrossDomain(context);
            if (messages == 0 || _interrupt is not { } interrupt || _queues.Length <= VirtioGpuConstants.ControlQueue
                || _queues[VirtioGpuConstants.ControlQueue] is not { } queue)
                return;
            if (CreditLocked(context.Id, messages, queue, interrupt) && queue.NeedsNotification())
                interrupt.SignalQueue(VirtioGpuConstants.ControlQueue);
        }
    }

    /// <summary>Returns the control-queue chains that <paramref name="messages"/> answered POLLs complete; true if any.</summary>
    private bool CreditLocked(uint ctxId, int messages, Virtqueue queue, IVirtioInterrupt interrupt)
    {
        bool any = false;
        if (messages > 0)
            _fences.Credit(ctxId, messages, (head, length) => any |= ReturnLocked(queue, VirtioGpuConstants.ControlQueue, head, length, interrupt));
        return any;
    }

    private static bool ReturnLocked(Virtqueue queue, int queueIndex, ushort head, uint written, IVirtioInterrupt interrupt)
    {
        if (queue.AddUsed(head, written))
            return true;
        interrupt.SignalNeedsReset($"virtio-gpu queue {queueIndex}: the used ring is no longer in guest memory");
        return false;
    }
}
