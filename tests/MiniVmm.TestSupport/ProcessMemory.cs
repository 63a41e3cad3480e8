using System.Globalization;

namespace MiniVmm.TestSupport;

/// <summary>What this process holds, for tests and benchmarks that bound what a guest can make the host hold.</summary>
public static class ProcessMemory
{
    /// <summary>The managed heap after a full, finalized collection: what is still referenced.</summary>
    public static long ManagedHeap()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>VmRSS from /proc/self/status, in bytes.</summary>
    public static long Rss()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        return 0;
    }

    public static int OpenFds() => Directory.GetFiles("/proc/self/fd").Length;
}
