using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Virtio;

namespace MiniVmm.Gpu.Winsrv;

/// <summary>One guest connection id and its channel. Guarded by the owning <see cref="WinsrvFrontend"/>'s lock.</summary>
internal sealed class WinsrvConnection(uint id, CrossDomainChannel channel) : IDisposable
{
    public uint Id { get; } = id;
    public CrossDomainChannel Channel { get; } = channel;

    /// <summary>The event-loop registration of the socket; null while not watched (no RX buffer posted or finished, and no TX queued).</summary>
    public IDisposable? Watch { get; private set; }

    /// <summary>The epoll events <see cref="Watch"/> waits for (EPOLLIN to receive, EPOLLOUT to flush queued TX); 0 while unwatched.</summary>
    public int WatchEvents { get; private set; }

    /// <summary>The len-0 RX (hang-up) went to the guest: nothing more will come; the id waits for DISCONNECT.</summary>
    public bool Finished { get; set; }

    /// <summary>Object ids → interfaces for --trace winsrv; null until the first traced message.</summary>
    public WaylandTraceDecoder? Decoder { get; set; }

    /// <summary>Watches the socket for <paramref name="events"/> (0: not at all), re-registering only when they change.</summary>
    public void WatchFor(EventLoop loop, int events, Action onReady)
    {
        if (events == WatchEvents)
            return;
        StopWatching();
        if (events == 0)
            return;
        Watch = loop.Add(Channel.Socket, _ => onReady(), events);
        WatchEvents = events;
    }

    public void StopWatching()
    {
        Watch?.Dispose();
        Watch = null;
        WatchEvents = 0;
    }

    public void Dispose()
    {
        // The registration holds a reference on the socket: drop it first so the socket really closes.
        StopWatching();
        Channel.Dispose();
    }
}
