using MiniVmm.TestSupport;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Hostile;

/// <summary>
/// What every hostile-input test checks at its end: this process's managed heap, resident set and open fds grew
/// by no more than a bound since <see cref="Take"/>, and the device still answers GET_DISPLAY_INFO properly.
/// </summary>
internal sealed class HostBounds
{
    private readonly long _heap;
    private readonly long _rss;
    private readonly int _fds;

    private HostBounds(long heap, long rss, int fds)
    {
        _heap = heap;
        _rss = rss;
        _fds = fds;
    }

    public static HostBounds Take() => new(Heap(), Rss(), Fds());

    /// <summary>Asserts heap and RSS grew by at most <paramref name="maxBytes"/>, fds by at most <paramref name="maxFds"/>.</summary>
    /// <param name="rssSlack">Added to the RSS bound: the GC's own segments, code and stacks a run may touch.</param>
    public void AssertWithin(long maxBytes, int maxFds = 32, long rssSlack = 0)
    {
        long heap = Heap() - _heap, rss = Rss() - _rss;
        int fds = Fds() - _fds;
        Assert.True(heap <= maxBytes, $"managed heap grew by {heap >> 10} KiB, bound {maxBytes >> 10} KiB");
        Assert.True(rss <= maxBytes + rssSlack, $"RSS grew by {rss >> 10} KiB, bound {(maxBytes + rssSlack) >> 10} KiB");
        Assert.True(fds <= maxFds, $"{fds} more fds open, bound {maxFds}");
    }

    /// <summary>The device still serves: a GET_DISPLAY_INFO with the configured mode (<paramref name="width"/> wide) on scanout 0.</summary>
    public static void AssertServes(GpuHarness h, uint width = 1024)
    {
        var reply = h.GetDisplayInfo();
        Assert.Equal(RESP_OK_DISPLAY_INFO, reply.Type);
        var info = reply.As<MiniVmm.Gpu.Protocol.VirtioGpuRespDisplayInfo>();
        Assert.Equal(1u, info.Pmodes[0].Enabled);
        Assert.Equal(width, info.Pmodes[0].R.Width);
    }

    /// <summary>Managed heap growth since <see cref="Take"/>, after a full collection.</summary>
    public long HeapGrowth => Heap() - _heap;

    private static long Heap() => ProcessMemory.ManagedHeap();

    private static long Rss() => ProcessMemory.Rss();

    private static int Fds() => ProcessMemory.OpenFds();
}

/// <summary>Hostile-input tests measure the whole process (heap, RSS, fds), so nothing else may run beside them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HostileCollection
{
    public const string Name = "Hostile";
}
