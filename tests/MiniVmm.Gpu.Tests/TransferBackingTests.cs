using MiniVmm.Gpu.Protocol;
using MiniVmm.Memory;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests;

/// <summary>
/// TRANSFER_TO_HOST_2D over backings that are not one neat page list: odd-sized entries split across pages, out of
/// order, contiguous runs that the device joins, runs that straddle two RAM regions, and entries out of bounds.
/// </summary>
public sealed class TransferBackingTests
{
    private const uint Width = 40, Height = 30, Stride = Width * 4, Size = Stride * Height;
    private const ulong Split = 12 << 20; // where the two RAM regions meet in the split harness

    /// <summary>Every byte differs from its neighbours, so a piece copied from the wrong place shows.</summary>
    private static byte[] Image() => [.. Enumerable.Range(0, (int)Size).Select(i => (byte)(i * 7 + (i >> 8)))];

    /// <summary>Attaches <paramref name="entries"/> (lengths summing to the image) and writes the image through them.</summary>
    private static void AttachAndFill(GpuHarness h, byte[] image, params (ulong Addr, uint Length)[] entries)
    {
        Assert.Equal(RESP_OK_NODATA, h.CreateResource(2, VirtioGpuFormat.R8G8B8A8_UNORM, Width, Height).Type);
        Assert.Equal(RESP_OK_NODATA, h.AttachBacking(2, entries).Type);
        Assert.Equal(RESP_OK_NODATA, h.SetScanout(0, 2, GpuHarness.Rect(0, 0, Width, Height)).Type);
        int at = 0;
        foreach (var (addr, length) in entries)
        {
            h.Memory.Write(new GuestAddress(addr), image.AsSpan(at, (int)length));
            at += (int)length;
        }
        Assert.Equal((int)Size, at);
    }

    private static byte[] Host(GpuHarness h) => h.Device.Scanouts[0].Capture()!.Pixels;

    [Fact]
    public void OddSizedEntriesOutOfOrderAndAcrossPagesArriveInBackingOrder()
    {
        using var h = new GpuHarness();
        var pages = h.AllocatePages(4 * 4096).Value;
        var image = Image();
        // Linear order: a piece late in page 2, one crossing pages 0 and 1, a single byte, the rest from page 3
        // (the last two continue each other in guest memory, so the device joins them into one run).
        AttachAndFill(h, image,
            (pages + 2 * 4096 + 100, 1000),
            (pages + 4000, 1799),
            (pages + 3 * 4096, 1),
            (pages + 3 * 4096 + 1, Size - 2800));

        Assert.Equal(RESP_OK_NODATA, h.Transfer(2, GpuHarness.Rect(0, 0, Width, Height), 0).Type);
        Assert.Equal(image, Host(h));
    }

    [Fact]
    public void SubRectsReadEachRowAtItsStrideAcrossEntries()
    {
        using var h = new GpuHarness();
        var pages = h.AllocatePages(2 * 4096).Value;
        var image = Image();
        AttachAndFill(h, image, (pages + 4096, 333), (pages, Size - 333)); // the second entry ends past the first's page

        var narrow = GpuHarness.Rect(3, 4, 7, 20); // a row at a time
        Assert.Equal(RESP_OK_NODATA, h.Transfer(2, narrow, 4 * Stride + 3 * 4).Type);
        var wide = GpuHarness.Rect(0, 26, Width, 3); // whole rows: one copy
        Assert.Equal(RESP_OK_NODATA, h.Transfer(2, wide, 26 * Stride).Type);

        var host = Host(h);
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
            {
                bool copied = (x is >= 3 and < 10 && y is >= 4 and < 24) || y is >= 26 and < 29;
                int at = y * (int)Stride + x * 4;
                Assert.True((copied ? image.AsSpan(at, 4) : new byte[4]).SequenceEqual(host.AsSpan(at, 4)), $"pixel ({x}, {y})");
            }
    }

    [Fact]
    public void ARunOfEntriesMayStraddleTwoAdjacentRamRegions()
    {
        using var h = new GpuHarness(ramSplit: Split);
        var image = Image();
        // Each entry lies in one region; together they run on across the boundary.
        AttachAndFill(h, image, (Split - 2400, 2400), (Split, Size - 2400));

        Assert.Equal(RESP_OK_NODATA, h.Transfer(2, GpuHarness.Rect(0, 0, Width, Height), 0).Type);
        Assert.Equal(image, Host(h));
        Assert.Equal(RESP_OK_NODATA, h.Transfer(2, GpuHarness.Rect(1, 8, 2, 4), 8 * Stride + 4).Type); // rows 8..11 cross it
    }

    [Fact]
    public void AnEntryThatItselfCrossesARegionEndIsRefusedAtAttach()
    {
        using var h = new GpuHarness(ramSplit: Split);
        Assert.Equal(RESP_OK_NODATA, h.CreateResource(2, VirtioGpuFormat.R8G8B8A8_UNORM, Width, Height).Type);
        Assert.Equal(RESP_ERR_UNSPEC, h.AttachBacking(2, (Split - 100, Size)).Type);
        Assert.Equal(RESP_ERR_UNSPEC, h.Transfer(2, GpuHarness.Rect(0, 0, Width, Height), 0).Type); // nothing attached
    }

    [Theory]
    [InlineData(GpuHarness.MemorySize - 4096, 8192u)]        // runs off the end of RAM
    [InlineData(GpuHarness.MemorySize, 16u)]                 // starts past it
    [InlineData(0xFFFF_FFFF_FFFF_F000UL, 0x2000u)]           // address + length wraps
    public void EntriesOutOfBoundsAreRefusedEvenAfterAValidRunUpToThem(ulong address, uint length)
    {
        using var h = new GpuHarness();
        Assert.Equal(RESP_OK_NODATA, h.CreateResource(2, VirtioGpuFormat.R8G8B8A8_UNORM, Width, Height).Type);
        // The first entry ends exactly where the bad one starts in the first two cases, so joining must not hide it.
        Assert.Equal(RESP_ERR_UNSPEC, h.AttachBacking(2, (address - 4096, 4096), (address, length)).Type);
        Assert.Equal(RESP_ERR_UNSPEC, h.Transfer(2, GpuHarness.Rect(0, 0, 1, 1), 0).Type);
    }

    [Fact]
    public void TransfersPastTheJoinedBackingAreStillInvalidParameters()
    {
        using var h = new GpuHarness();
        var pages = h.AllocatePages(2 * 4096).Value;
        Assert.Equal(RESP_OK_NODATA, h.CreateResource(2, VirtioGpuFormat.R8G8B8A8_UNORM, Width, Height).Type);
        Assert.Equal(RESP_OK_NODATA, h.AttachBacking(2, (pages, 4096), (pages + 4096, Size - 4096 - 4)).Type);
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, h.Transfer(2, GpuHarness.Rect(0, 0, Width, Height), 0).Type);
        Assert.Equal(RESP_OK_NODATA, h.Transfer(2, GpuHarness.Rect(0, 0, Width, Height - 1), 0).Type);
    }
}
