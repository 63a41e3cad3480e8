using System.Diagnostics.CodeAnalysis;
using MiniVmm.Sys;

namespace MiniVmm.Wayland;

/// <summary>
/// Received fds in arrival order. Wayland does not say which message an fd belongs to: each message whose signature
/// has fd arguments takes the next ones from this queue. As a receive's <see cref="IFdSink"/> it refuses fds past
/// <see cref="Limit"/>.
/// </summary>
public sealed class FdQueue : IFdSink, IDisposable
{
    /// <summary>More queued fds than this is treated as abuse (libwayland's own buffer holds far fewer).</summary>
    public const int Limit = 1024;

    private readonly Queue<Fd> _fds = new();

    public int Count => _fds.Count;

    /// <summary>False (and the fd is closed) when the queue is full.</summary>
    public bool TryEnqueue(Fd fd)
    {
        if (_fds.Count >= Limit)
        {
            fd.Dispose();
            return false;
        }
        _fds.Enqueue(fd);
        return true;
    }

    bool IFdSink.TryAdd(Fd fd) => TryEnqueue(fd);

    public bool TryDequeue([MaybeNullWhen(false)] out Fd fd) => _fds.TryDequeue(out fd);

    /// <summary>Closes the next <paramref name="count"/> fds: those of a message nobody will handle.</summary>
    public void Discard(int count)
    {
        for (var i = 0; i < count && _fds.TryDequeue(out var fd); i++)
            fd.Dispose();
    }

    public void Dispose() => Discard(int.MaxValue);
}
