namespace MiniVmm.Wayland;

/// <summary>A wl_display.error from the compositor: after it the connection is dead.</summary>
public sealed record WaylandProtocolError(uint ObjectId, string InterfaceName, uint Code, string Message)
{
    public override string ToString() => $"{InterfaceName}@{ObjectId}: error {Code}: {Message}";
}

/// <summary>Outcome of a non-blocking socket operation.</summary>
public enum IoStatus
{
    /// <summary>Everything was sent, or some bytes were received.</summary>
    Done,
    /// <summary>The socket is full (send) or empty (receive); wait for poll.</summary>
    WouldBlock,
    /// <summary>The connection is gone; <see cref="WaylandConnection.CloseReason"/> says why.</summary>
    Closed,
}
