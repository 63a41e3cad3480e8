using MiniVmm.Sys;
using MiniVmm.Pci;

namespace MiniVmm.Virtio.Transport;

/// <summary>
/// Queue notifications, guest to device. Each queue has an eventfd served by the event loop; when the
/// address space supports it the eventfd is also a KVM ioeventfd on the queue's notify address, so a
/// guest notify completes inside KVM and only wakes the loop. Without an ioeventfd the write traps to
/// the BAR and <see cref="NotifyFromMmio"/> signals the same eventfd, so the device sees every notify
/// on the loop thread either way. Without an event loop at all (unit tests), notifies are delivered
/// directly on the calling thread.
/// Thread-safety: <see cref="_lock"/> guards <see cref="_notifyBase"/> and <see cref="_assigned"/>.
/// </summary>
internal sealed class VirtioQueueNotifiers : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Action<int> _onNotify;
    private readonly EventFd[] _eventFds;
    private readonly List<IDisposable> _registrations = [];
    private IPciAddressSpace? _space;
    private ulong? _notifyBase;
    private bool _assigned;
    private long _mmioNotifies;

    public VirtioQueueNotifiers(int queueCount, EventLoop? loop, Action<int> onNotify)
    {
        _onNotify = onNotify;
        _eventFds = loop is null ? [] : [.. Enumerable.Range(0, queueCount).Select(_ => new EventFd(nonBlocking: true))];
        for (int queue = 0; queue < _eventFds.Length; queue++)
        {
            int index = queue;
            _registrations.Add(loop!.AddEventFd(_eventFds[queue], () => _onNotify(index)));
        }
    }

    /// <summary>Notifies that trapped to the BAR instead of completing in KVM (diagnostics: 0 means ioeventfds worked).</summary>
    public long MmioNotifies => Interlocked.Read(ref _mmioNotifies);

    /// <summary>Whether the queue notify addresses are currently KVM ioeventfds.</summary>
    public bool IoEventsAssigned
    {
        get
        {
            lock (_lock)
                return _assigned;
        }
    }

    /// <summary>The eventfd behind queue <paramref name="queue"/>, when there is an event loop.</summary>
    public EventFd? EventFdFor(int queue) => queue < _eventFds.Length ? _eventFds[queue] : null;

    public void Attach(IPciAddressSpace space) => _space = space;

    /// <summary>BAR 0 moved: the notify addresses follow it (null: BAR not decoding, nothing to register).</summary>
    public void Move(ulong? notifyBase)
    {
        lock (_lock)
        {
            if (_notifyBase == notifyBase)
                return;
            RemoveLocked();
            _notifyBase = notifyBase;
            if (notifyBase is not { } start || _space is not { } space || _eventFds.Length == 0)
                return;
            var added = new List<int>();
            for (int queue = 0; queue < _eventFds.Length; queue++)
            {
                if (!space.TryAddIoEvent(_eventFds[queue].Value, Address(start, queue), VirtioPciConstants.NotifyAccessSize))
                    break;
                added.Add(queue);
            }
            _assigned = added.Count == _eventFds.Length;
            if (!_assigned)
            {
                // All or none: a half-registered device would be harder to reason about than the slow path.
                foreach (int queue in added)
                    space.RemoveIoEvent(_eventFds[queue].Value, Address(start, queue), VirtioPciConstants.NotifyAccessSize);
            }
        }
    }

    /// <summary>A notify write that reached the BAR (no ioeventfd, or a write KVM did not match).</summary>
    public void NotifyFromMmio(int queue)
    {
        Interlocked.Increment(ref _mmioNotifies);
        if (queue < _eventFds.Length)
            _eventFds[queue].Signal();
        else
            _onNotify(queue);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            RemoveLocked();
            _notifyBase = null;
        }
        foreach (var registration in _registrations)
            registration.Dispose();
        foreach (var eventFd in _eventFds)
            eventFd.Dispose();
    }

    private void RemoveLocked()
    {
        if (!_assigned || _notifyBase is not { } start || _space is not { } space)
            return;
        for (int queue = 0; queue < _eventFds.Length; queue++)
            space.RemoveIoEvent(_eventFds[queue].Value, Address(start, queue), VirtioPciConstants.NotifyAccessSize);
        _assigned = false;
    }

    private static ulong Address(ulong notifyBase, int queue) => notifyBase + ((ulong)queue * VirtioPciLayout.NotifyOffMultiplier);
}
