using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Hostile;

/// <summary>Issue 11 item 8: the count of mapped blobs stays right through UNREF of a mapped blob and through reset.</summary>
[Collection(HostileCollection.Name)]
public sealed class MappingCountTests
{
    private const ulong RegionSize = 1 << 20;

    [Fact]
    public void UnrefOfMappedBlobsNeverExhaustsTheMappingsEvenPastTheCap()
    {
        var region = new FakeHostVisibleRegion(RegionSize);
        using var h = new GpuHarness(GpuHarness.BlobOptions(RegionSize), traced: false, region: region);
        // A plain context (context_init 0): its HOST3D blobs are fresh pages whatever the blob_id; a cross-domain one would
        // want GET_IMAGE_REQUIREMENTS ids (crosvm's rule), which is not what these tests are about.
        Assert.Equal(RESP_OK_NODATA, h.CreateContext(1, contextInit: 0).Type);
        var bounds = HostBounds.Take();
        for (uint i = 0; i < Backend.VirtioGpuBackend.MaxMappings + 100; i++)
        {
            Assert.Equal(RESP_OK_NODATA, h.CreateHostBlob(2, 4096).Type);
            Assert.Equal(RESP_OK_MAP_INFO, h.MapBlob(2, 0).Type);
            Assert.Equal(RESP_OK_NODATA, h.Unref(2).Type);
        }
        Assert.Empty(region.Mappings);
        HostBounds.AssertServes(h);
        bounds.AssertWithin(32L << 20);
    }

    [Fact]
    public void ResetForgetsEveryMapping()
    {
        // The backend alone (no queues to re-activate): 4096 mapped blobs fill the mapping cap, then a reset.
        const ulong region = 2 * Backend.VirtioGpuBackend.MaxMappings * 4096UL;
        var backend = new Backend.VirtioGpuBackend(GpuHarness.BlobOptions(region), region: new FakeHostVisibleRegion(region));
        using var memory = Memory.GuestMemory.CreateFlat(1 << 20);
        const uint capset = 0; // a plain context: HOST3D blobs get fresh pages (no image query needed)
        Assert.False(backend.CreateContext(1, capset, "a").IsError);
        for (uint id = 1; id <= Backend.VirtioGpuBackend.MaxMappings; id++)
        {
            Assert.False(CreateHostBlob(backend, memory, id).IsError);
            Assert.False(backend.MapBlob(id, (id - 1) * 4096UL).IsError);
        }
        Assert.Equal(RESP_ERR_OUT_OF_MEMORY, CreateAndMap(backend, memory, 9999, region / 2).Type);
        backend.Reset();
        Assert.False(backend.CreateContext(1, capset, "a").IsError);
        Assert.Equal(RESP_OK_MAP_INFO, CreateAndMap(backend, memory, 2, 0).Type);
    }

    private static GpuResponse CreateHostBlob(Backend.VirtioGpuBackend backend, Memory.GuestMemory memory, uint id) =>
        backend.CreateBlob(memory, 1, id, Protocol.VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_HOST3D, GpuHarness.Mappable, 1, 4096, []);

    private static GpuResponse CreateAndMap(Backend.VirtioGpuBackend backend, Memory.GuestMemory memory, uint id, ulong offset)
    {
        var created = CreateHostBlob(backend, memory, id);
        return created.IsError ? created : backend.MapBlob(id, offset);
    }
}
