using MiniVmm.Gpu.CrossDomain;

namespace MiniVmm.Gpu.Winsrv;

/// <summary>One guest connection id and its channel. Guarded by the owning <see cref="WinsrvFrontend"/>'s lock.</summary>
internal sealed class WinsrvConnection(uint id, CrossDomainChannel channel) : IDisposable
{
    public uint Id { get; } = id;
    public CrossDomainChannel Channel { get; } = channel;

    /// <summary>The event-loop registration of the socket; null while not watched (no RX buffer posted, or finished).</summary>
    public IDisposable? Watch { get; set; }

    /// <summary>The len-0 RX (hang-up) went to the guest: nothing more will come; the id waits for DISCONNECT.</summary>
    public bool Finished { get; set; }

    /// <summary>Object ids → interfaces for --trace winsrv; null until the first traced message.</summary>
    public WaylandTraceDecoder? Decoder { get; set; }

    public void StopWatching()
    {
        Watch?.Dispose();
        Watch = null;
    }

    public void Dispose()
    {
        // The registration holds a reference on the socket: drop it first so the socket really closes.
        StopWatching();
        Channel.Dispose();
    }
}
