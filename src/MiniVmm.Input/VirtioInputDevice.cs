using System.Buffers.Binary;
using MiniVmm.Virtio;
using MiniVmm.Virtio.Queue;

namespace MiniVmm.Input;

/// <summary>
/// virtio-input (virtio spec 5.8; device ID 18): the event queue carries evdev events to the driver in the buffers it
/// posts, the status queue brings back what the driver sets (keyboard LEDs). The host side calls <see cref="Send"/>
/// from any thread (the window's input events). With no buffer posted, events wait in a bounded backlog; past it the
/// oldest whole batches (up to a SYN) are dropped, as a real device loses input when nobody reads it.
/// Threading: <see cref="_lock"/> guards the queues, the interrupt, the backlog and the config selector.
/// </summary>
public sealed class VirtioInputDevice : IVirtioDevice
{
    public const uint VirtioIdInput = 18;
    public const ushort QueueSize = 64;
    public const int EventQueue = 0, StatusQueue = 1;
    /// <summary>Events kept while the driver has posted no buffers (a few seconds of typing and pointer motion).</summary>
    public const int MaxBacklog = 1024;
    private const int MaxStatusEventsPerChain = 16;

    private readonly Lock _lock = new();
    private readonly InputDeviceConfig _config;
    private readonly Queue<InputEvent> _backlog = new();
    private Virtqueue? _events, _status;
    private IVirtioInterrupt? _interrupt;
    private byte _select, _subsel;

    public VirtioInputDevice(InputDeviceConfig config) => _config = config;

    /// <summary>A PC keyboard: every key code up to KEY_MICMUTE, autorepeat done by the guest, three LEDs.</summary>
    public static VirtioInputDevice Keyboard() => new(new InputDeviceConfig("MiniVmm Keyboard", "minivmm-keyboard", 1)
        .With(EventTypes.Key, Enumerable.Range(InputCodes.FirstKey, InputCodes.LastKey - InputCodes.FirstKey + 1).Select(code => (ushort)code))
        .With(EventTypes.Rep, 0, 1)
        .With(EventTypes.Led, InputCodes.LedNumLock, InputCodes.LedCapsLock, InputCodes.LedScrollLock));

    /// <summary>An absolute pointer: the window's position scaled to 0..AbsMax, five buttons, two wheels.</summary>
    public static VirtioInputDevice Tablet() => new(new InputDeviceConfig("MiniVmm Tablet", "minivmm-tablet", 2)
        .With(EventTypes.Key, InputCodes.ButtonLeft, InputCodes.ButtonRight, InputCodes.ButtonMiddle, InputCodes.ButtonSide, InputCodes.ButtonExtra)
        .With(EventTypes.Rel, InputCodes.RelWheel, InputCodes.RelHorizontalWheel)
        .WithAxis(InputCodes.AbsX, 0, InputCodes.AbsMax)
        .WithAxis(InputCodes.AbsY, 0, InputCodes.AbsMax));

    public InputDeviceConfig Config => _config;

    /// <summary>Raised (on a vCPU or event-loop thread) with each event the driver sends on the status queue.</summary>
    public event Action<InputEvent>? StatusReceived;

    /// <summary>Events dropped because the guest read none (the backlog was full).</summary>
    public long Dropped { get; private set; }

    public uint DeviceType => VirtioIdInput;
    public ulong DeviceFeatures => 0;
    public IReadOnlyList<ushort> QueueMaxSizes { get; } = [QueueSize, QueueSize];

    public void ReadConfig(uint offset, Span<byte> data)
    {
        Span<byte> config = stackalloc byte[InputDeviceConfig.Size];
        lock (_lock)
        {
            config[0] = _select;
            config[1] = _subsel;
            config[2] = _config.Answer(_select, _subsel, config[InputDeviceConfig.UnionOffset..]);
        }
        data.Clear();
        if (offset < config.Length)
            config[(int)offset..Math.Min(config.Length, (int)offset + data.Length)].CopyTo(data);
    }

    public void WriteConfig(uint offset, ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            // Only select (offset 0) and subsel (offset 1) are the driver's to write.
            for (int i = 0; i < data.Length; i++)
            {
                if (offset + i == 0)
                    _select = data[i];
                else if (offset + i == 1)
                    _subsel = data[i];
            }
        }
    }

    public void Activate(VirtioActivation activation)
    {
        lock (_lock)
        {
            _events = activation.Queues.Count > EventQueue ? activation.Queues[EventQueue] : null;
            _status = activation.Queues.Count > StatusQueue ? activation.Queues[StatusQueue] : null;
            _interrupt = activation.Interrupt;
            FlushLocked();
        }
    }

    public void Reset()
    {
        lock (_lock)
        {
            _events = _status = null;
            _interrupt = null;
            _backlog.Clear();
            _select = _subsel = 0;
        }
    }

    public void QueueNotify(int queueIndex)
    {
        List<InputEvent>? received = null;
        lock (_lock)
        {
            if (queueIndex == EventQueue)
                FlushLocked();
            else if (queueIndex == StatusQueue)
                received = DrainStatusLocked();
        }
        if (received is not null && StatusReceived is { } handler)
            foreach (var status in received)
                handler(status);
    }

    /// <summary>Queues events for the guest (end a batch with <see cref="InputEvent.Sync"/>); codes the device does not have are dropped.</summary>
    public void Send(ReadOnlySpan<InputEvent> batch)
    {
        lock (_lock)
        {
            foreach (var input in batch)
            {
                if (!_config.Sends(input.Type, input.Code))
                    continue;
                _backlog.Enqueue(input);
            }
            while (_backlog.Count > MaxBacklog)
                DropOldestBatchLocked();
            FlushLocked();
        }
    }

    private void DropOldestBatchLocked()
    {
        while (_backlog.TryDequeue(out var dropped))
        {
            Dropped++;
            if (dropped.Type == EventTypes.Syn)
                return;
        }
    }

    /// <summary>One event per posted buffer (the Linux driver posts 8-byte buffers).</summary>
    private void FlushLocked()
    {
        if (_events is { } queue && _interrupt is { } interrupt)
            QueueServing.Serve(queue, EventQueue, interrupt, $"virtio-input {_config.Name}", WriteNextEvent, () => _backlog.Count > 0);
    }

    /// <summary>A buffer too small for an event goes back empty and the event waits for the next one.</summary>
    private uint WriteNextEvent(DescriptorChain chain)
    {
        var input = _backlog.Peek();
        Span<byte> bytes = stackalloc byte[InputEvent.Size];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, input.Type);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[2..], input.Code);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[4..], input.Value);
        var writer = chain.CreateWriter();
        if (writer.TryWriteBytes(bytes))
            _backlog.Dequeue();
        return writer.BytesWritten;
    }

    private List<InputEvent>? DrainStatusLocked()
    {
        if (_status is not { } queue || _interrupt is not { } interrupt)
            return null;
        var received = new List<InputEvent>();
        QueueServing.Serve(queue, StatusQueue, interrupt, $"virtio-input {_config.Name}", chain =>
        {
            var reader = chain.CreateReader();
            Span<byte> bytes = stackalloc byte[InputEvent.Size];
            // The driver sends one event per buffer; a few more are read, never a guest-sized number.
            for (int i = 0; i < MaxStatusEventsPerChain && reader.TryReadBytes(bytes); i++)
                received.Add(new InputEvent(BinaryPrimitives.ReadUInt16LittleEndian(bytes), BinaryPrimitives.ReadUInt16LittleEndian(bytes[2..]),
                    BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..])));
            return 0;
        });
        return received;
    }
}
