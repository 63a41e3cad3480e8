using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Tmds.Linux;

namespace MiniVmm.Sys;

/// <summary>
/// The event loop, the one MiniVmm has: one thread waiting in epoll over registered fds (queue-notify ioeventfds,
/// compositor sockets, pipes) and running each fd's callback on that thread, so vCPU threads
/// never block on device work. Registrations may be added and removed from any thread. A callback that
/// throws is reported to the error handler given at construction; without one, the loop records the
/// exception in <see cref="Failure"/> and stops (a device bug must not pass silently).
/// Thread-safety: <see cref="_registrations"/> is a concurrent map; <see cref="_thread"/> and
/// <see cref="_stopping"/> are written under <see cref="_lifecycleLock"/>.
/// </summary>
public sealed unsafe class EventLoop : IDisposable
{
    private const int MaxEventsPerWait = 32;
    private const ulong WakeToken = 0;

    private readonly Lock _lifecycleLock = new();
    private readonly int _epoll;
    private readonly EventFd _wake = new(nonBlocking: true);
    private readonly ConcurrentDictionary<ulong, Registration> _registrations = new();
    private readonly Action<Exception>? _onError;
    private readonly string _name;
    private long _nextToken = (long)WakeToken;
    private Thread? _thread;
    private volatile bool _stopping;
    // Written once by the loop thread, read by anyone.
    private volatile Exception? _failure;
    private bool _disposed;

    public EventLoop(string name = "minivmm-events", Action<Exception>? onError = null)
    {
        _name = name;
        _onError = onError;
        _epoll = LibC.epoll_create1(LibC.EPOLL_CLOEXEC);
        if (_epoll < 0)
            throw new ErrnoException("epoll_create1", Errno.Last);
        Control(LibC.EPOLL_CTL_ADD, _wake.Value, LibC.EPOLLIN, WakeToken);
    }

    /// <summary>The exception that stopped the loop, when no error handler was given.</summary>
    public Exception? Failure => _failure;

    public bool IsLoopThread => Thread.CurrentThread == _thread;

    /// <summary>Starts the loop thread (idempotent).</summary>
    public void Start()
    {
        lock (_lifecycleLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_thread is not null)
                return;
            _thread = new Thread(Run) { Name = _name, IsBackground = true };
            _thread.Start();
        }
    }

    /// <summary>
    /// Calls <paramref name="callback"/>(epoll events) on the loop thread whenever <paramref name="handle"/>
    /// is ready (level-triggered: the callback must consume what made it ready; add <see cref="Poll.EdgeTriggered"/>
    /// for one call per change). <paramref name="events"/> and the callback's argument are <see cref="Poll"/> bits
    /// (0: <see cref="Poll.In"/>). The handle is kept open until the returned registration is disposed.
    /// </summary>
    public IDisposable Add(SafeHandle handle, Action<int> callback, int events = 0)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentNullException.ThrowIfNull(callback);
        bool added = false;
        handle.DangerousAddRef(ref added);
        ulong token = (ulong)Interlocked.Increment(ref _nextToken);
        var registration = new Registration(this, token, handle, callback);
        _registrations[token] = registration;
        try
        {
            Control(LibC.EPOLL_CTL_ADD, (int)handle.DangerousGetHandle(), events == 0 ? LibC.EPOLLIN : events, token);
        }
        catch
        {
            _registrations.TryRemove(token, out _);
            handle.DangerousRelease();
            throw;
        }
        return registration;
    }

    /// <summary>Runs <paramref name="onSignal"/> on the loop thread each time <paramref name="eventFd"/> is signalled (the count is drained first).</summary>
    public IDisposable AddEventFd(EventFd eventFd, Action onSignal)
    {
        ArgumentNullException.ThrowIfNull(eventFd);
        ArgumentNullException.ThrowIfNull(onSignal);
        return Add(eventFd, _ =>
        {
            if (eventFd.Read() != 0)
                onSignal();
        });
    }

    /// <summary>Stops the loop thread and waits for it, unless called from a callback (then it just stops after it).</summary>
    public void Stop()
    {
        Thread? thread;
        lock (_lifecycleLock)
        {
            _stopping = true;
            thread = _thread;
        }
        if (!_wake.IsClosed)
            _wake.Signal();
        if (thread is not null && thread != Thread.CurrentThread)
            thread.Join();
    }

    public void Dispose()
    {
        Stop();
        lock (_lifecycleLock)
        {
            if (_disposed)
                return;
            _disposed = true;
        }
        foreach (var registration in _registrations.Values)
            registration.Dispose();
        _ = LibC.close(_epoll);
        _wake.Dispose();
    }

    private void Run()
    {
        var events = stackalloc epoll_event[MaxEventsPerWait];
        while (!_stopping)
        {
            int count = LibC.epoll_wait(_epoll, events, MaxEventsPerWait, -1);
            if (count < 0)
            {
                int errno = Errno.Last;
                if (errno == LibC.EINTR)
                    continue;
                Fail(new ErrnoException("epoll_wait", errno));
                return;
            }
            for (int i = 0; i < count && !_stopping; i++)
            {
                ulong token = events[i].data.u64;
                // A registration removed after epoll_wait returned is simply gone.
                if (token != WakeToken && _registrations.TryGetValue(token, out var registration))
                    Dispatch(registration, events[i].events);
            }
        }
    }

    private void Dispatch(Registration registration, int readyEvents)
    {
        bool held = false;
        try
        {
            // Keep the fd open while its callback runs, even if the owner disposes the registration meanwhile.
            registration.Handle.DangerousAddRef(ref held);
            registration.Callback(readyEvents);
        }
        catch (ObjectDisposedException) when (!held)
        {
            // The handle closed between epoll_wait and now: nothing to do.
        }
#pragma warning disable CA1031 // a device callback's failure is reported, not allowed to kill the loop thread silently
        catch (Exception error)
#pragma warning restore CA1031
        {
            Fail(error);
        }
        finally
        {
            if (held)
                registration.Handle.DangerousRelease();
        }
    }

    private void Fail(Exception error)
    {
        if (_onError is { } report)
        {
            report(error);
            return;
        }
        _failure ??= error;
        _stopping = true;
    }

    private void Control(int operation, int fd, int events, ulong token)
    {
        var item = new epoll_event { events = events };
        item.data.u64 = token;
        if (LibC.epoll_ctl(_epoll, operation, fd, &item) != 0)
            throw new ErrnoException("epoll_ctl", Errno.Last);
    }

    private sealed class Registration(EventLoop loop, ulong token, SafeHandle handle, Action<int> callback) : IDisposable
    {
        private int _disposed;

        public SafeHandle Handle { get; } = handle;
        public Action<int> Callback { get; } = callback;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
                return;
            loop._registrations.TryRemove(token, out _);
            var item = default(epoll_event);
            _ = LibC.epoll_ctl(loop._epoll, LibC.EPOLL_CTL_DEL, (int)Handle.DangerousGetHandle(), &item);
            Handle.DangerousRelease();
        }
    }
}
