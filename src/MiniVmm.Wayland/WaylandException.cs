namespace MiniVmm.Wayland;

/// <summary>A Wayland connection could not be set up or was lost; the message is one line meant for the user.</summary>
public sealed class WaylandException : Exception
{
    public WaylandException()
    {
    }

    public WaylandException(string message)
        : base(message)
    {
    }

    public WaylandException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The errno behind the failure, when there is one.</summary>
    public int Errno { get; init; }
}
