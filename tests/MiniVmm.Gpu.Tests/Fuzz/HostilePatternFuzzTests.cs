using MiniVmm.Gpu.Protocol;
using MiniVmm.Gpu.Tests.Hostile;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Fuzz;

/// <summary>
/// The patterns of issue 11, seeded and mixed: bursts of tiny objects, backing arrays of up to 131072 entries (2D
/// and GUEST blobs), HOST3D blobs and scanouts of every size, with frees in between. Every answer is OK or
/// ERR_OUT_OF_MEMORY; the budget is never passed, the process's heap stays within it, and after freeing everything
/// nothing is charged. (Republished heads: Hostile/HeldHeadTests and the queue's own tests.)
/// </summary>
[Collection(HostileCollection.Name)]
public sealed class HostilePatternFuzzTests
{
    private const long Budget = 8L << 20;
    private const int MaxEntries = Backend.VirtioGpuBackend.MaxBackingEntries;

    [Theory]
    [InlineData(3)]
    [InlineData(11)]
    [InlineData(2025)]
    public void TheBudgetHoldsUnderMixedHostilePatterns(int seed)
    {
        var random = new Random(seed);
        using var h = new GpuHarness(GpuHarness.BlobOptions() with { MaxHostMemoryBytes = Budget, Scanouts = 4 }, traced: false);
        // A plain context (context_init 0): its HOST3D blobs are fresh pages whatever the blob_id; a cross-domain one would
        // want GET_IMAGE_REQUIREMENTS ids (crosvm's rule), which is not what these tests are about.
        Assert.Equal(RESP_OK_NODATA, h.CreateContext(1, contextInit: 0).Type);
        ulong table = HostBudgetTests.EntryTable(h, MaxEntries);
        var live = new List<uint>();
        uint nextId = 1;
        var bounds = HostBounds.Take();

        for (int round = 0; round < 400; round++)
        {
            uint id = nextId++;
            VirtioGpuCtrlType answer;
            switch (random.Next(6))
            {
                case 0: // a burst of tiny objects
                    for (int i = 0; i < 200; i++, id = nextId++)
                        Track(h.CreateResource(id, VirtioGpuFormat.B8G8R8X8_UNORM, 1, 1).Type, id, live);
                    continue;
                case 1: // a 2D resource with a huge backing array
                    Track(answer = h.CreateResource(id, VirtioGpuFormat.B8G8R8X8_UNORM, 4, 4).Type, id, live);
                    if (answer == RESP_OK_NODATA)
                        AssertRefusalOrOk(Submit(h, new VirtioGpuResourceAttachBacking
                        {
                            Hdr = GpuHarness.Hdr(CMD_RESOURCE_ATTACH_BACKING), ResourceId = id, NrEntries = (uint)random.Next(1, MaxEntries + 1),
                        }, table));
                    continue;
                case 2: // a GUEST blob with a huge backing array
                    int entries = random.Next(1, MaxEntries + 1);
                    Track(Submit(h, new VirtioGpuResourceCreateBlob
                    {
                        Hdr = GpuHarness.Hdr(CMD_RESOURCE_CREATE_BLOB), ResourceId = id, BlobMem = VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_GUEST,
                        BlobFlags = GpuHarness.Shareable, NrEntries = (uint)entries, Size = 4096,
                    }, table).Type, id, live);
                    continue;
                case 3: // a HOST3D blob
                    Track(h.CreateHostBlob(id, 4096UL * (ulong)random.Next(1, 64)).Type, id, live);
                    continue;
                case 4: // a scanout of any size on any head
                    uint side = (uint)random.Next(1, 3000);
                    Track(answer = h.CreateResource(id, VirtioGpuFormat.B8G8R8X8_UNORM, side, side).Type, id, live);
                    if (answer == RESP_OK_NODATA)
                        AssertRefusalOrOk(h.SetScanout((uint)random.Next(4), id, GpuHarness.Rect(0, 0, side, side)));
                    continue;
                default: // free some
                    for (int i = 0; i < 50 && live.Count > 0; i++)
                    {
                        int at = random.Next(live.Count);
                        Assert.Equal(RESP_OK_NODATA, h.Unref(live[at]).Type);
                        live.RemoveAt(at);
                    }
                    continue;
            }
        }
        Assert.InRange(h.Device.Backend.BudgetBytes, 0, Budget);
        bounds.AssertWithin(Budget + (2L << 20), rssSlack: 64L << 20);
        Assert.Empty(h.Interrupt.NeedsResetReasons);

        foreach (uint id in live)
            Assert.Equal(RESP_OK_NODATA, h.Unref(id).Type);
        Assert.Equal(RESP_OK_NODATA, h.DestroyContext(1).Type);
        Assert.Equal((0L, 0), (h.Device.Backend.BudgetBytes, h.Device.Backend.BudgetObjects));
        HostBounds.AssertServes(h);
    }

    private static void Track(VirtioGpuCtrlType answer, uint id, List<uint> live)
    {
        Assert.True(answer is RESP_OK_NODATA or RESP_ERR_OUT_OF_MEMORY, $"resource {id}: {answer}");
        if (answer == RESP_OK_NODATA)
            live.Add(id);
    }

    private static void AssertRefusalOrOk(Reply reply) =>
        Assert.True(reply.Type is RESP_OK_NODATA or RESP_ERR_OUT_OF_MEMORY, reply.Type.ToString());

    private static Reply Submit<T>(GpuHarness h, in T command, ulong table) where T : unmanaged
    {
        uint entries = command switch
        {
            VirtioGpuResourceAttachBacking attach => attach.NrEntries,
            VirtioGpuResourceCreateBlob blob => blob.NrEntries,
            _ => 0,
        };
        return HostBudgetTests.SubmitWithTable(h, GpuHarness.Bytes(in command), table, (int)entries);
    }
}
