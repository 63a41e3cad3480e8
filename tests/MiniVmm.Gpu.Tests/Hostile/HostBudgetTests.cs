using MiniVmm.Gpu.Protocol;
using MiniVmm.TestSupport;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Hostile;

/// <summary>
/// Issue 11 items 1, 2 and 6: one host budget (max-host-memory) charged at real cost, and object-count caps. Each
/// attack runs through the guest-driver harness against a small budget; the host's heap growth stays within it
/// (the ratio the bench reports), the device answers ERR_OUT_OF_MEMORY past it and goes on serving.
/// </summary>
[Collection(HostileCollection.Name)]
public sealed class HostBudgetTests
{
    private const long MiB = 1 << 20;
    private const long RssSlack = 48 * MiB;

    private static GpuHarness Harness(long budget, bool blob = false) =>
        new((blob ? GpuHarness.BlobOptions() : new GpuOptions()) with { MaxHostMemoryBytes = budget }, traced: false);

    [Theory]
    [InlineData("max-host-memory=64M", 64L << 20)]
    [InlineData("blob=on,max-host-memory=1G", 1L << 30)]
    [InlineData("", 256L << 20)] // the default
    public void TheBudgetIsAGpuOption(string text, long expected) =>
        Assert.Equal(expected, GpuOptions.Parse(text).MaxHostMemoryBytes);

    [Fact]
    public void AZeroBudgetIsBadInput() =>
        Assert.False(GpuOptions.TryParse("max-host-memory=0", out _, out _));

    [Fact]
    public void ManyTinyResourcesStopAtTheBudget()
    {
        const long Budget = 1 * MiB;
        using var h = Harness(Budget);
        var bounds = HostBounds.Take();
        int created = 0;
        for (uint id = 1; id <= 40_000; id++)
        {
            var type = h.CreateResource(id, VirtioGpuFormat.B8G8R8X8_UNORM, 1, 1).Type;
            Assert.True(type is RESP_OK_NODATA or RESP_ERR_OUT_OF_MEMORY, type.ToString());
            created += type == RESP_OK_NODATA ? 1 : 0;
        }
        Assert.InRange(created, 1, (int)(Budget / 256)); // each costs at least the per-object minimum
        bounds.AssertWithin(Budget, rssSlack: RssSlack);
        HostBounds.AssertServes(h);
    }

    /// <summary>GUEST blobs or 2D backing, each with 8192 entries naming one page: 32 bytes an entry, whatever they cover.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void HugeBackingArraysStopAtTheBudget(bool guestBlobs)
    {
        const long Budget = 4 * MiB;
        const int Entries = 8192;
        using var h = Harness(Budget, blob: guestBlobs);
        var table = EntryTable(h, Entries);
        var bounds = HostBounds.Take();
        int accepted = 0;
        for (uint id = 1; id <= 80; id++)
        {
            if (!guestBlobs)
                Assert.Equal(RESP_OK_NODATA, h.CreateResource(id, VirtioGpuFormat.B8G8R8X8_UNORM, 4, 4).Type);
            var attach = new VirtioGpuResourceAttachBacking { Hdr = GpuHarness.Hdr(CMD_RESOURCE_ATTACH_BACKING), ResourceId = id, NrEntries = Entries };
            var type = (guestBlobs ? CreateGuestBlob(h, id, table, Entries) : SubmitWithTable(h, GpuHarness.Bytes(in attach), table, Entries)).Type;
            Assert.True(type is RESP_OK_NODATA or RESP_ERR_OUT_OF_MEMORY, type.ToString());
            accepted += type == RESP_OK_NODATA ? 1 : 0;
        }
        Assert.InRange(accepted, 1, (int)(Budget / (Entries * 32L)));
        bounds.AssertWithin(Budget, rssSlack: RssSlack);
        HostBounds.AssertServes(h);
    }

    [Fact]
    public void TheWindowsCopiesOfAScanoutAreCharged()
    {
        const long Budget = 64 * MiB;
        using var h = Harness(Budget);
        Assert.Equal(RESP_OK_NODATA, h.CreateResource(2, VirtioGpuFormat.B8G8R8X8_UNORM, 4096, 2048).Type); // 32 MiB
        // On screen, the window holds two shm buffers and a shadow frame of it: 96 MiB more, past the budget.
        Assert.Equal(RESP_ERR_OUT_OF_MEMORY, h.SetScanout(0, 2, GpuHarness.Rect(0, 0, 4096, 2048)).Type);
        Assert.Equal(RESP_OK_NODATA, h.SetScanout(0, 2, GpuHarness.Rect(0, 0, 1024, 768)).Type);
        Assert.Equal(RESP_OK_NODATA, h.SetScanout(0, 0, default).Type);
        Assert.Equal(RESP_OK_NODATA, h.Unref(2).Type);
        Assert.Equal(RESP_OK_NODATA, h.CreateResource(3, VirtioGpuFormat.B8G8R8X8_UNORM, 2048, 2048).Type); // all given back
        HostBounds.AssertServes(h);
    }

    [Fact]
    public void HostBlobsAreCappedInFdsAsWellAsBytes()
    {
        using var h = Harness(256 * MiB, blob: true);
        // A plain context (context_init 0): its HOST3D blobs are fresh pages whatever the blob_id; a cross-domain one would
        // want GET_IMAGE_REQUIREMENTS ids (crosvm's rule), which is not what these tests are about.
        Assert.Equal(RESP_OK_NODATA, h.CreateContext(1, contextInit: 0).Type);
        var bounds = HostBounds.Take();
        int created = 0;
        for (uint id = 1; id <= 6000; id++)
        {
            var type = h.CreateHostBlob(id, 4096).Type;
            Assert.True(type is RESP_OK_NODATA or RESP_ERR_OUT_OF_MEMORY, type.ToString());
            created += type == RESP_OK_NODATA ? 1 : 0;
        }
        Assert.Equal(Backend.VirtioGpuBackend.MaxMappings, created);
        bounds.AssertWithin(32 * MiB, maxFds: Backend.VirtioGpuBackend.MaxMappings + 32, rssSlack: RssSlack);
        h.Device.Reset();
    }

    /// <summary>A table of <paramref name="entries"/> mem entries, all naming one page, written once into guest memory.</summary>
    internal static ulong EntryTable(GpuHarness h, int entries)
    {
        var page = h.AllocatePages(4096);
        var table = h.AllocatePages((ulong)entries * 16);
        h.Memory.Write(table, GpuHarness.MemEntries([.. Enumerable.Repeat((page.Value, 4096u), entries)]));
        return table.Value;
    }

    private static Reply CreateGuestBlob(GpuHarness h, uint id, ulong table, int entries)
    {
        var command = new VirtioGpuResourceCreateBlob
        {
            Hdr = GpuHarness.Hdr(CMD_RESOURCE_CREATE_BLOB),
            ResourceId = id,
            BlobMem = VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_GUEST,
            BlobFlags = GpuHarness.Shareable,
            NrEntries = (uint)entries,
            Size = 4096,
        };
        return SubmitWithTable(h, GpuHarness.Bytes(in command), table, entries);
    }

    /// <summary>A command whose mem entries are a table already in guest memory (sent by address, not copied each time).</summary>
    internal static Reply SubmitWithTable(GpuHarness h, byte[] command, ulong table, int entries)
    {
        var chain = h.Control.AddChain(MockBuffer.Readable(command), MockBuffer.Raw(table, (uint)entries * 16, writable: false),
            MockBuffer.WritableSpace(24));
        return h.Kick(h.Control, VirtioGpuConstants.ControlQueue, chain, 24);
    }
}
