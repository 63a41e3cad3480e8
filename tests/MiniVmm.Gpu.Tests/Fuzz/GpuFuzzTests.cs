using MiniVmm.Gpu.Protocol;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Fuzz;

/// <summary>
/// A hostile or buggy guest never crashes the VMM: thousands of seeded commands of every type, plausible and
/// hostile, against a blob + cross-domain device with a host-visible region and a stand-in compositor; each answer
/// is checked (<see cref="GpuFuzzDriver"/>), and afterwards the device still serves a normal frame and holds nothing.
/// </summary>
[Collection("GpuFuzz")]
public sealed class GpuFuzzTests
{
    private const int CommandsPerSeed = 4000;
    private const ulong HostVisibleSize = 1 << 20;
    private const ulong PoolSize = 4 << 20;

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(42)]
    [InlineData(2024)]
    [InlineData(31337)]
    [InlineData(132)] // holds a timeline fence behind a request cut inside its header
    public void RandomCommandsAreAnsweredAndTheDeviceKeepsServing(int seed)
    {
        WarmUpOnce();
        int fdsBefore = OpenFdCount();
        Run(seed, CommandsPerSeed);
        // Per-command leaks would show as hundreds; a device's event-loop thread may keep its epoll and eventfd.
        int grown = OpenFdCount() - fdsBefore;
        Assert.True(grown <= 4, $"seed {seed}: {grown} more fds open after the run: {string.Join(' ', OpenFds())}");
    }

    private static bool _warm;

    /// <summary>The first run in the process loads assemblies and starts the socket engine (fds that stay); do that before counting.</summary>
    private static void WarmUpOnce()
    {
        if (!_warm)
            Run(seed: 0, commands: 300);
        _warm = true;
    }

    private static void Run(int seed, int commands)
    {
        using (var compositor = new DrainingCompositor())
        {
            var region = new FakeHostVisibleRegion(HostVisibleSize);
            var options = GpuHarness.BlobOptions(HostVisibleSize) with { WaylandSockets = CompositorSockets.Only(compositor.Path) };
            using var harness = new GpuHarness(options, region: region);
            var pool = harness.AllocatePages(PoolSize);
            var driver = new GpuFuzzDriver(harness, seed);
            var generator = new GpuCommandGenerator(new Random(seed), driver.Shadow,
                new FuzzSpace(pool.Value, PoolSize, GpuHarness.MemorySize, HostVisibleSize));
            for (int i = 0; i < commands; i++)
                driver.Send(generator.Next());

            FreeEverything(driver);
            driver.Check(driver.HeldCount == 0, $"{driver.HeldCount} chains never came back after their contexts went");
            driver.Check(harness.Device.Backend.HostBytes == 0, $"{harness.Device.Backend.HostBytes} host bytes still held with no resources");
            driver.Check(region.Mappings.Count == 0, $"{region.Mappings.Count} blobs still mapped with no resources");
            ShowAFrame(harness, driver);
            harness.Device.Reset();
        }
    }

    /// <summary>Destroys every context and unrefs every resource the guest holds, as a driver unload does.</summary>
    private static void FreeEverything(GpuFuzzDriver driver)
    {
        foreach (uint ctx in driver.Shadow.LiveContexts.ToArray())
        {
            var destroy = new FuzzCommand($"cleanup CTX_DESTROY ctx={ctx}", GpuHarness.Bytes(GpuHarness.Hdr(CMD_CTX_DESTROY, ctxId: ctx))) { Expected = RESP_OK_NODATA };
            driver.Send(destroy);
        }
        foreach (uint id in driver.Shadow.LiveResources.ToArray())
        {
            var unref = new VirtioGpuResourceUnref { Hdr = GpuHarness.Hdr(CMD_RESOURCE_UNREF), ResourceId = id };
            driver.Send(new FuzzCommand($"cleanup UNREF id={id}", GpuHarness.Bytes(in unref)) { Expected = RESP_OK_NODATA });
        }
    }

    /// <summary>The sanity sequence: display info, then a fresh resource shown and flushed as a driver's first frame.</summary>
    private static void ShowAFrame(GpuHarness harness, GpuFuzzDriver driver)
    {
        const uint id = 0xf00d;
        driver.Check(harness.GetDisplayInfo().Type == RESP_OK_DISPLAY_INFO, "GET_DISPLAY_INFO failed after the run");
        harness.CreateBackedResource(id, 64, 64);
        var rect = GpuHarness.Rect(0, 0, 64, 64);
        driver.Check(harness.Transfer(id, rect, 0).Type == RESP_OK_NODATA, "TRANSFER failed after the run");
        driver.Check(harness.SetScanout(0, id, rect).Type == RESP_OK_NODATA, "SET_SCANOUT failed after the run");
        int frames = harness.Sink.Frames.Count;
        driver.Check(harness.Flush(id, rect).Type == RESP_OK_NODATA, "FLUSH failed after the run");
        driver.Check(harness.Sink.Frames.Count == frames + 1, "FLUSH presented no frame after the run");
        driver.Check(harness.Unref(id).Type == RESP_OK_NODATA && harness.Device.Backend.ResourceCount == 0, "the frame's resource did not go");
    }

    internal static int OpenFdCount() => Directory.GetFiles("/proc/self/fd").Length;

    private static IEnumerable<string?> OpenFds() => Directory.GetFiles("/proc/self/fd").Select(f => new FileInfo(f).LinkTarget);
}
