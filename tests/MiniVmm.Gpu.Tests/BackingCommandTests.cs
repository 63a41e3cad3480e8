using MiniVmm.Gpu.Protocol;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests;

public sealed class BackingCommandTests : IDisposable
{
    private readonly GpuHarness _h = new();

    public BackingCommandTests() =>
        Assert.Equal(RESP_OK_NODATA, _h.CreateResource(2, VirtioGpuFormat.B8G8R8X8_UNORM, 16, 16).Type);

    public void Dispose() => _h.Dispose();

    private (ulong, uint) Pages(uint length) => (_h.AllocatePages(length).Value, length);

    private VirtioGpuCtrlType TransferAll() => _h.Transfer(2, GpuHarness.Rect(0, 0, 16, 16), 0).Type;

    [Fact]
    public void AttachThenTransferSucceeds()
    {
        Assert.Equal(RESP_OK_NODATA, _h.AttachBacking(2, Pages(1024)).Type);
        Assert.Equal(RESP_OK_NODATA, TransferAll());
    }

    [Theory]
    [InlineData(Layout.SplitHeader)]
    [InlineData(Layout.BytePerDescriptor)]
    [InlineData(Layout.Indirect)]
    public void EntriesAreGatheredFromAnyLayout(Layout layout)
    {
        var a = Pages(512);
        var b = Pages(512);
        Assert.Equal(RESP_OK_NODATA, _h.AttachBacking(2, 2, [a, b], layout).Type);
        Assert.Equal(RESP_OK_NODATA, TransferAll());
    }

    [Fact]
    public void AttachToAnUnknownResourceIsInvalid() =>
        Assert.Equal(RESP_ERR_INVALID_RESOURCE_ID, _h.AttachBacking(3, Pages(1024)).Type);

    [Fact]
    public void AttachingTwiceIsAnError()
    {
        Assert.Equal(RESP_OK_NODATA, _h.AttachBacking(2, Pages(1024)).Type);
        Assert.Equal(RESP_ERR_UNSPEC, _h.AttachBacking(2, Pages(1024)).Type);
    }

    [Theory]
    [InlineData(2u)]
    [InlineData(1000u)]
    [InlineData(0xFFFF_FFFFu)]
    public void NrEntriesIsCappedByTheBytesPresent(uint nrEntries)
    {
        var reply = _h.AttachBacking(2, nrEntries, [Pages(1024)]);
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, reply.Type);
        Assert.Contains(_h.Trace, line => line.Contains($"nr_entries {nrEntries} but only 1 entries follow", StringComparison.Ordinal));
        Assert.Equal(RESP_ERR_UNSPEC, TransferAll()); // nothing attached
    }

    [Theory]
    [InlineData(GpuHarness.MemorySize, 4096u)]               // starts past the end of RAM
    [InlineData(GpuHarness.MemorySize - 2048, 4096u)]        // runs past the end
    [InlineData(0xFFFF_FFFF_FFFF_F000UL, 0x2000u)]           // wraps
    [InlineData(0x1000UL, 0xFFFF_FFFFu)]                     // huge length
    public void AnyBadEntryRejectsTheWholeAttach(ulong address, uint length)
    {
        var good = Pages(512);
        Assert.Equal(RESP_ERR_UNSPEC, _h.AttachBacking(2, good, (address, length)).Type);
        // No backing was attached, so the driver can retry with good entries.
        Assert.Equal(RESP_ERR_UNSPEC, TransferAll());
        Assert.Equal(RESP_OK_NODATA, _h.AttachBacking(2, good, Pages(512)).Type);
        Assert.Equal(RESP_OK_NODATA, TransferAll());
    }

    [Fact]
    public void OverlappingEntriesAreHarmless()
    {
        // The device only reads backing, so two entries naming the same page just read it twice.
        var page = _h.AllocatePages(512);
        _h.Memory.Write(page, Enumerable.Repeat((byte)0x5A, 512).ToArray());
        Assert.Equal(RESP_OK_NODATA, _h.AttachBacking(2, (page.Value, 512), (page.Value, 512)).Type);
        Assert.Equal(RESP_OK_NODATA, TransferAll());
        Assert.Equal(RESP_OK_NODATA, _h.SetScanout(0, 2, GpuHarness.Rect(0, 0, 16, 16)).Type);
        var image = _h.Device.Scanouts[0].Capture()!;
        Assert.Equal(0x5A, image.Pixels[0]);
        Assert.Equal(0x5A, image.Pixels[^2]);
    }

    [Fact]
    public void ZeroEntriesAttachAnEmptyBacking()
    {
        Assert.Equal(RESP_OK_NODATA, _h.AttachBacking(2).Type);
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, TransferAll());
    }

    [Fact]
    public void DetachRemovesTheBacking()
    {
        Assert.Equal(RESP_OK_NODATA, _h.AttachBacking(2, Pages(1024)).Type);
        Assert.Equal(RESP_OK_NODATA, _h.DetachBacking(2).Type);
        Assert.Equal(RESP_ERR_UNSPEC, TransferAll());
        Assert.Equal(RESP_ERR_UNSPEC, _h.DetachBacking(2).Type);
        Assert.Equal(RESP_ERR_INVALID_RESOURCE_ID, _h.DetachBacking(9).Type);
        Assert.Equal(RESP_OK_NODATA, _h.AttachBacking(2, Pages(1024)).Type);
    }
}
