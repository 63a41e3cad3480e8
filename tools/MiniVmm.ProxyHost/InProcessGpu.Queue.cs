using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Memory;
using MiniVmm.TestSupport;

namespace MiniVmm.ProxyHost;

/// <summary>
/// The control queue, shared by the sending threads and the thread waiting on a POLL: chains are added under a lock,
/// and whoever drains the used ring records every head so each waiter finds its own. Heads identify chains, so no new
/// chain may start on the head of one still in flight: a POLL can wait while hundreds of WRITEs pass and wrap the
/// 256 descriptors, and a WRITE on its head would have its completion taken for the POLL's.
/// </summary>
internal sealed partial class InProcessGpu
{
    // A slot holds the largest chain: a SEND's 32-byte SUBMIT_3D header, its ~4.5 KiB stream, and a response.
    private const int SlotSize = 8192, SlotCount = 64;
    private readonly Stack<ulong> _freeSlots = new(); // guarded by _lock
    private readonly Dictionary<ushort, ulong> _slots = []; // guarded by _lock: chain head → its slot
    private ulong _skipSlot; // a byte the cursor-moving filler chains point at
    private readonly Lock _waiters = new(); // guards the two waiter tables and _interruptCount
    private readonly HashSet<WakeEvent> _anyWaiters = []; // threads in WaitForInterrupt
    private readonly Dictionary<WakeEvent, ushort> _chainWaiters = []; // threads in WaitFor, and the chain head each waits for
    // Eventfds for waiting threads, rented per wait: as many as threads ever waited at once, not one per thread that
    // ever waited (relay threads come and go with the client's pipes, and a per-thread eventfd outlived its thread).
    private readonly Stack<WakeEvent> _idleWakeEvents = new(); // guarded by _waiters
    private readonly List<WakeEvent> _allWakeEvents = []; // guarded by _waiters; closed at Dispose
    private long _interruptCount; // guarded by _waiters

    /// <summary>
    /// Carves the control queue's data space into slots once. Every chain (command, optional payload, response) lives
    /// in one slot from <see cref="Start"/> until <see cref="Finish"/>, so a long-running client reuses the same few
    /// slots instead of running a bump allocator dry.
    /// </summary>
    private void CreateSlots()
    {
        _skipSlot = _control.Allocate(16).Value;
        for (var i = 0; i < SlotCount; i++)
            _freeSlots.Push(_control.Allocate(SlotSize).Value);
    }

    /// <summary>Queues a chain (command, optional payload, writable response) and kicks the device.</summary>
    public MockChain Start(byte[] command, byte[]? extra, int responseSize)
    {
        lock (_lock)
        {
            if (!_freeSlots.TryPop(out var slot))
                throw new InvalidOperationException($"more than {SlotCount} control commands in flight");
            if (command.Length + (extra?.Length ?? 0) + responseSize + 32 > SlotSize)
            {
                _freeSlots.Push(slot);
                throw new ArgumentException($"a {command.Length}+{extra?.Length ?? 0}-byte command does not fit a {SlotSize}-byte slot", nameof(extra));
            }
            var at = slot;
            var buffers = new List<MockBuffer> { Place(ref at, command) };
            if (extra is { Length: > 0 })
                buffers.Add(Place(ref at, extra));
            buffers.Add(MockBuffer.Raw(at, (uint)responseSize, writable: true));
            while (_inFlight.Contains(_nextHead))
            {
                // An unpublished one-descriptor chain moves the queue's cursor past the busy head. The device read
                // that chain's descriptors when it took it, so overwriting the slot changes nothing for it.
                _control.WriteChain(MockBuffer.Raw(_skipSlot, 1, writable: false));
                _nextHead = (ushort)((_nextHead + 1) % _control.Size);
            }
            var chain = _control.AddChain([.. buffers]);
            _nextHead = (ushort)((chain.Head + buffers.Count) % _control.Size);
            _inFlight.Add(chain.Head);
            _slots[chain.Head] = slot;
            _device.QueueNotify(VirtioGpuConstants.ControlQueue);
            return chain;
        }
    }

    /// <summary>Writes <paramref name="bytes"/> at <paramref name="at"/> and moves past them (16-byte aligned).</summary>
    private MockBuffer Place(ref ulong at, byte[] bytes)
    {
        _memory.Write(new GuestAddress(at), bytes);
        var buffer = MockBuffer.Raw(at, (uint)bytes.Length, writable: false);
        at += ((ulong)bytes.Length + 15) & ~15UL;
        return buffer;
    }

    /// <summary>The response header of a completed chain; its slot is free again afterwards.</summary>
    public VirtioGpuCtrlHdr Finish(MockChain chain) => Finish<VirtioGpuCtrlHdr>(chain);

    /// <summary>The response of a completed chain (a header and what follows it); its slot is free again afterwards.</summary>
    public T Finish<T>(MockChain chain) where T : unmanaged
    {
        var response = MemoryMarshal.Read<T>(_control.ReadBytes(chain.BufferAddresses[^1], Unsafe.SizeOf<T>()));
        lock (_lock)
        {
            if (_slots.Remove(chain.Head, out var slot))
                _freeSlots.Push(slot);
        }
        return response;
    }

    /// <summary>Whether the device has put <paramref name="chain"/> in the used ring (then <see cref="Finish"/> it).</summary>
    public bool IsComplete(MockChain chain)
    {
        lock (_usedLock)
        {
            DrainUsed();
            if (!_completed.Remove(chain.Head))
                return false;
        }
        lock (_lock)
            _inFlight.Remove(chain.Head);
        return true;
    }

    /// <summary>
    /// Waits (bounded) until the device has put <paramref name="chain"/> in the used ring, in poll(2) on this thread's
    /// eventfd, which the interrupt writes only when this chain is done: a thread waiting for a POLL is not woken by
    /// every SEND another thread completes.
    /// </summary>
    public bool WaitFor(MockChain chain, TimeSpan timeout)
    {
        if (IsComplete(chain))
            return true; // commands the device answers while it is kicked: no waiting, no registration
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        var wake = RentWakeEvent();
        try
        {
            while (true)
            {
                lock (_waiters)
                    _chainWaiters[wake] = chain.Head;
                if (IsComplete(chain))
                    return true;
                var left = deadline - Environment.TickCount64;
                if (left <= 0 || !wake.Wait((int)Math.Min(left, int.MaxValue)))
                    return IsComplete(chain);
            }
        }
        finally
        {
            lock (_waiters)
                _chainWaiters.Remove(wake);
            ReturnWakeEvent(wake);
        }
    }

    /// <summary>An idle eventfd, or a new one. A stale count left by a late signal only makes the next wait look again.</summary>
    private WakeEvent RentWakeEvent()
    {
        lock (_waiters)
        {
            if (_idleWakeEvents.TryPop(out var idle))
                return idle;
            var wake = new WakeEvent();
            _allWakeEvents.Add(wake);
            return wake;
        }
    }

    private void ReturnWakeEvent(WakeEvent wake)
    {
        lock (_waiters)
            _idleWakeEvents.Push(wake);
    }

    /// <summary>How many interrupts the device has raised: the value to hand <see cref="WaitForInterrupt"/>.</summary>
    public long Interrupts
    {
        get
        {
            lock (_waiters)
                return _interruptCount;
        }
    }

    /// <summary>
    /// Blocks in poll(2) on this thread's eventfd until the device raises an interrupt after <paramref name="seen"/> (a
    /// value of <see cref="Interrupts"/> read before the caller looked at the used ring), or <paramref name="timeoutMs"/>
    /// passes (negative: at once). True when one came. The interrupt writes the eventfd of each registered waiter, so the
    /// kernel wakes the thread directly: no user-space lock to retake after the wake-up, no spinning, no sleeps.
    /// </summary>
    public bool WaitForInterrupt(long seen, long timeoutMs)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        var wake = RentWakeEvent();
        try
        {
            while (true)
            {
                lock (_waiters)
                {
                    if (_interruptCount != seen)
                        return true;
                    _anyWaiters.Add(wake);
                }
                var left = deadline - Environment.TickCount64;
                if (left <= 0 || !wake.Wait((int)Math.Min(left, int.MaxValue)))
                {
                    lock (_waiters)
                        return _interruptCount != seen;
                }
            }
        }
        finally
        {
            lock (_waiters)
                _anyWaiters.Remove(wake);
            ReturnWakeEvent(wake);
        }
    }

    /// <summary>
    /// The interrupt (device threads, under the device's lock): takes the used ring, then wakes the threads waiting for
    /// any interrupt and those waiting for a chain now done. Never takes <see cref="_lock"/>, which a thread may hold
    /// while it kicks the device.
    /// </summary>
    private void Signal()
    {
        // _waiters nests inside _usedLock here and nowhere the other way round, so the completed set is looked at in
        // place instead of copied on every interrupt.
        lock (_usedLock)
        {
            DrainUsed();
            lock (_waiters)
            {
                _interruptCount++;
                foreach (var waiter in _anyWaiters)
                    waiter.Signal();
                _anyWaiters.Clear();
                foreach (var (waiter, head) in _chainWaiters)
                {
                    if (_completed.Contains(head))
                        waiter.Signal();
                }
            }
        }
    }

    /// <summary>Moves the used ring's new entries to <see cref="_completed"/>. Under <see cref="_usedLock"/>.</summary>
    private void DrainUsed()
    {
        foreach (var used in _control.TakeUsed())
            _completed.Add((ushort)used.Id);
    }
}
