using MiniVmm.Sys;

namespace MiniVmm.GuestProxy.Tests;

/// <summary>Keeps every received fd in <paramref name="fds"/>, in order: the tests count and close them themselves.</summary>
internal sealed class FdListSink(List<Fd> fds) : IFdSink
{
    public bool TryAdd(Fd fd)
    {
        fds.Add(fd);
        return true;
    }
}
