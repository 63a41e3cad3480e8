using MiniVmm.Gpu.Tests.Winsrv;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Fuzz;

/// <summary>The winsrv queues under a hostile guest: random CONNECT/TX/DISCONNECT, then a clean session still works.</summary>
[Collection("GpuFuzz")]
public sealed class WinsrvFuzzTests
{
    private const int CommandsPerSeed = 3000;
    private const ulong PoolStart = 20 << 20; // above the harness's tx queue data
    private const ulong PoolSize = 4 << 20;

    [Theory]
    [InlineData(3)]
    [InlineData(99)]
    [InlineData(4242)]
    public void RandomWinsrvTrafficIsAnsweredAndTheDeviceKeepsServing(int seed)
    {
        if (!_warm)
            Run(0, 200); // the first run in the process loads assemblies and starts the socket engine (fds that stay)
        _warm = true;
        int fdsBefore = GpuFuzzTests.OpenFdCount();
        Run(seed, CommandsPerSeed);
        int grown = GpuFuzzTests.OpenFdCount() - fdsBefore;
        Assert.True(grown <= 4, $"winsrv seed {seed}: {grown} more fds open after the run");
    }

    private static bool _warm;

    private static void Run(int seed, int commands)
    {
        using var compositor = new DrainingCompositor();
        var options = new GpuOptions { Edid = false, Winsrv = true, Blob = true, Contexts = true, HostMemoryBytes = 1 << 20 };
        using var harness = new WinsrvHarness(compositor.Path, options, region: new FakeHostVisibleRegion(1 << 20));
        var run = new WinsrvFuzzRun(harness, new Random(seed), seed, PoolStart, PoolSize);
        harness.PostRx(8);
        run.CreatePlainContext();
        for (int i = 0; i < commands; i++)
            run.Step();

        foreach (uint id in run.Connected.ToArray())
            run.Disconnect(id);
        foreach (uint id in run.Blobs.ToArray())
            run.Unref(id);
        run.Check(run.Connected.Count == 0 && run.Blobs.Count == 0 && harness.Device.Backend.ResourceCount == 0, "cleanup left connections or resources");
        run.CheckRx();
        // A clean session on a fresh id still works.
        run.Check(harness.Connect(1000) == RESP_OK_NODATA, "CONNECT failed after the run");
        run.Check(harness.Send(1000, "ok"u8) == RESP_OK_NODATA, "TX failed after the run");
        run.Check(harness.Disconnect(1000) == RESP_OK_NODATA, "DISCONNECT failed after the run");
    }
}
