using System.Net.Sockets;
using System.Runtime.InteropServices;
using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Gpu.Tests.Winsrv;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;
using W = MiniVmm.Gpu.Tests.CrossDomain.UpstreamCrossDomainWire;

namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>
/// The rules crosvm holds guests to, and what third-party guests (minigbm, sommelier) send, with every command built
/// from upstream's byte layout (<see cref="UpstreamCrossDomainWire"/>): query-only INIT, GET_IMAGE_REQUIREMENTS for
/// upstream's formats with upstream's numbers, HOST3D blob ids, one READ_PIPE per SEND.
/// </summary>
public sealed class CrossDomainUpstreamRulesTests : StandInCompositorTests
{
    private const uint Ctx = 1, QueryRing = 100, ChannelRing = 101;

    private Socket Open()
    {
        Assert.Equal(RESP_OK_NODATA, H.CreateContext(Ctx).Type);
        H.CreateRing(QueryRing, Ctx);
        H.CreateRing(ChannelRing, Ctx);
        Assert.Equal(RESP_OK_NODATA, H.Submit3D(Ctx, W.Init(QueryRing, ChannelRing, 1)).Type);
        return Listener.Accept();
    }

    private W.ImageRequirements Query(uint width, uint height, string format, uint ctx = Ctx, uint ring = QueryRing)
    {
        var reply = H.Submit3D(ctx, W.GetImageRequirements(width, height, W.Fourcc(format)), fence: 11, ring: 0);
        Assert.Equal((RESP_OK_NODATA, 11UL), (reply.Type, reply.Header.FenceId));
        return W.ParseImageRequirements(H.ReadRing(ring));
    }

    [Fact]
    public void MinigbmsSixteenByteQueryOnlyInitSucceedsAndAnswersImageQueries()
    {
        Assert.Equal(RESP_OK_NODATA, H.CreateContext(Ctx).Type);
        H.CreateRing(QueryRing, Ctx);
        Assert.Equal(RESP_OK_NODATA, H.Submit3D(Ctx, W.InitLegacy(QueryRing, channelType: 0)).Type);
        Assert.False(Listener.Poll(100_000, SelectMode.SelectRead)); // no compositor connection was made
        Assert.True(H.Device.Backend.GetCrossDomainContext(Ctx)!.IsQueryOnly);

        var answer = Query(64, 64, "XR24");
        Assert.Equal((256u, 16384UL), (answer.Strides[0], answer.Size));
        Assert.Equal(RESP_OK_NODATA, H.CreateHostBlob(7, answer.Size, Ctx, blobId: answer.BlobId).Type);

        // There is no channel: POLL and SEND are refused (never a hang-up written over the query ring), and the
        // context keeps answering queries.
        Assert.Equal(RESP_ERR_UNSPEC, H.Submit3D(Ctx, W.Poll(), fence: 12, ring: 1).Type);
        Assert.Equal(RESP_ERR_UNSPEC, H.Submit3D(Ctx, W.Send("x"u8)).Type);
        var unchanged = W.ParseImageRequirements(H.ReadRing(QueryRing));
        Assert.Equal((answer.Strides[0], answer.Size, answer.BlobId), (unchanged.Strides[0], unchanged.Size, unchanged.BlobId));
        Assert.Equal(4096UL, Query(16, 16, "R8  ").Size);
    }

    [Fact]
    public void ATwentyByteInitWithChannelTypeZeroIgnoresItsChannelRing()
    {
        Assert.Equal(RESP_OK_NODATA, H.CreateContext(Ctx).Type);
        H.CreateRing(QueryRing, Ctx);
        // 0xdead is no resource at all: crosvm does not look at the channel ring when no channel is asked for.
        Assert.Equal(RESP_OK_NODATA, H.Submit3D(Ctx, W.Init(QueryRing, 0xdead, channelType: 0)).Type);
        Assert.Equal(8192UL, Query(1920, 4, "R8  ").Size);
        Assert.Equal(RESP_ERR_UNSPEC, H.Submit3D(Ctx, W.Init(QueryRing, 0xdead, channelType: 0)).Type); // INIT twice
    }

    /// <summary>
    /// Strides, offsets and sizes worked out by hand from crosvm's formats.rs (stride = bytes per pixel × width /
    /// horizontal subsampling, planes back to back, total rounded up to 4 KiB), not from the product's table.
    /// </summary>
    [Theory]
    [InlineData("R8  ", 100, 50, new uint[] { 100 }, new uint[] { 0 }, 8192UL)] // 5000 bytes
    [InlineData("RG16", 100, 50, new uint[] { 200 }, new uint[] { 0 }, 12288UL)] // RGB565, 10000
    [InlineData("BG24", 100, 50, new uint[] { 300 }, new uint[] { 0 }, 16384UL)] // BGR888, 15000
    [InlineData("XR24", 1920, 1080, new uint[] { 7680 }, new uint[] { 0 }, 8294400UL)] // exactly 2025 pages
    [InlineData("AR24", 100, 50, new uint[] { 400 }, new uint[] { 0 }, 20480UL)]
    [InlineData("XB24", 100, 50, new uint[] { 400 }, new uint[] { 0 }, 20480UL)]
    [InlineData("AB24", 100, 50, new uint[] { 400 }, new uint[] { 0 }, 20480UL)]
    [InlineData("XR30", 100, 50, new uint[] { 400 }, new uint[] { 0 }, 20480UL)]
    [InlineData("AR30", 100, 50, new uint[] { 400 }, new uint[] { 0 }, 20480UL)]
    [InlineData("XB30", 100, 50, new uint[] { 400 }, new uint[] { 0 }, 20480UL)]
    [InlineData("AB30", 100, 50, new uint[] { 400 }, new uint[] { 0 }, 20480UL)]
    [InlineData("AB4H", 100, 50, new uint[] { 800 }, new uint[] { 0 }, 40960UL)] // ABGR16161616F, 40000
    [InlineData("NV12", 1920, 1080, new uint[] { 1920, 1920 }, new uint[] { 0, 2073600 }, 3112960UL)] // 3110400 rounded up
    [InlineData("NV12", 101, 51, new uint[] { 101, 100 }, new uint[] { 0, 5151 }, 8192UL)] // odd sizes: 5151 + 100 × 25
    [InlineData("YV12", 1920, 1080, new uint[] { 1920, 960, 960 }, new uint[] { 0, 2073600, 2592000 }, 3112960UL)] // YVU420
    [InlineData("YV12", 10, 10, new uint[] { 10, 5, 5 }, new uint[] { 0, 100, 125 }, 4096UL)] // crosvm's own test case
    public void ImageRequirementsAreUpstreamsLinearLayout(string format, uint width, uint height, uint[] strides, uint[] offsets, ulong size)
    {
        using var peer = Open();
        var answer = Query(width, height, format);
        Assert.Equal(strides.Concat(new uint[4 - strides.Length]), answer.Strides);
        Assert.Equal(offsets.Concat(new uint[4 - offsets.Length]), answer.Offsets);
        Assert.Equal(size, answer.Size);
        Assert.Equal(0UL, answer.Modifier); // DRM_FORMAT_MOD_LINEAR
        Assert.Equal(1u, answer.MapInfo); // VIRTIO_GPU_MAP_CACHE_CACHED
        Assert.Equal((-1, -1), (answer.MemoryIdx, answer.PhysicalDeviceIdx));
        Assert.NotEqual(0u, answer.BlobId);
        Assert.Equal(RESP_OK_NODATA, H.CreateHostBlob(9, size, Ctx, blobId: answer.BlobId).Type);
    }

    [Theory]
    [InlineData("YUYV", 64, 64)] // a real fourcc crosvm does not answer
    [InlineData("XR24", 0, 64)]
    [InlineData("XR24", 64, 0)]
    [InlineData("AB4H", 65536, 65536)] // 32 GiB: past upstream's u32 size
    [InlineData("XR24", 0x40000000, 1)] // the stride alone passes u32
    public void AnUnansweredQueryZeroesTheRingSoSommelierNeverReadsTheLastAnswer(string format, uint width, uint height)
    {
        using var peer = Open();
        var previous = Query(640, 480, "XR24");
        Assert.NotEqual(0u, previous.BlobId);
        // sommelier waits for the fence and reads the ring without looking at the response: the fence still
        // completes, and what it reads is an all-zero answer (size 0, blob_id 0), not the 640x480 one.
        var reply = H.Submit3D(Ctx, W.GetImageRequirements(width, height, W.Fourcc(format)), fence: 13, ring: 0);
        Assert.Equal((RESP_ERR_UNSPEC, 13UL), (reply.Type, reply.Header.FenceId));
        Assert.All(H.ReadRing(QueryRing)[..64], b => Assert.Equal(0, b));
        Assert.Equal(RESP_ERR_UNSPEC, H.CreateHostBlob(9, 4096, Ctx, blobId: 0).Type);
        Assert.Equal(previous.Size, Query(640, 480, "XR24").Size); // and the context goes on
    }

    [Fact]
    public void AHost3dBlobMustNameAQueriedBlobIdWithItsExactSize()
    {
        using var peer = Open();
        var answer = Query(256, 256, "AR24"); // 256 KiB
        Assert.Equal(262144UL, answer.Size);
        Assert.Equal(RESP_ERR_UNSPEC, H.CreateHostBlob(9, answer.Size, Ctx, blobId: 0).Type);
        Assert.Equal(RESP_ERR_UNSPEC, H.CreateHostBlob(9, answer.Size, Ctx, blobId: answer.BlobId + 1000).Type); // never answered
        Assert.Equal(RESP_ERR_UNSPEC, H.CreateHostBlob(9, answer.Size + 4096, Ctx, blobId: answer.BlobId).Type); // crosvm: size mismatch
        Assert.Equal(RESP_ERR_UNSPEC, H.CreateHostBlob(9, answer.Size - 4096, Ctx, blobId: answer.BlobId).Type);
        Assert.Equal(RESP_ERR_UNSPEC, H.CreateHostBlob(9, answer.Size, Ctx, blobId: answer.BlobId | 1UL << 32).Type); // only 32 bits name it
        Assert.Equal(0, H.Device.Backend.ResourceCount - 2); // only the two rings: nothing was made by the refusals

        // The answer stays usable (crosvm keeps requirement items): two buffers from one query.
        Assert.Equal(RESP_OK_NODATA, H.CreateHostBlob(9, answer.Size, Ctx, blobId: answer.BlobId).Type);
        Assert.Equal(RESP_OK_NODATA, H.CreateHostBlob(10, answer.Size, Ctx, blobId: answer.BlobId).Type);

        // A blob id is the context's own: another cross-domain context cannot use it.
        Assert.Equal(RESP_OK_NODATA, H.CreateContext(2).Type);
        Assert.Equal(RESP_ERR_UNSPEC, H.CreateHostBlob(11, answer.Size, 2, blobId: answer.BlobId).Type);
        // A context of another type keeps the plain rule: fresh pages whatever the blob_id.
        Assert.Equal(RESP_OK_NODATA, H.CreateContext(3, contextInit: 0).Type);
        Assert.Equal(RESP_OK_NODATA, H.CreateHostBlob(12, 4096, 3, blobId: 77).Type);
    }

    [Fact]
    public void OnlyTheNewestAnswersAreRemembered()
    {
        using var peer = Open();
        var first = Query(1, 1, "R8  ");
        for (int i = 1; i < CrossDomainContext.MaxImageBlobIds; i++)
            Assert.Equal(RESP_OK_NODATA, H.Submit3D(Ctx, W.GetImageRequirements(1, 1, W.Fourcc("R8  "))).Type);
        var second = Query(1, 1, "R8  "); // one more than the table holds: the first answer is forgotten
        Assert.Equal(RESP_ERR_UNSPEC, H.CreateHostBlob(9, 4096, Ctx, blobId: first.BlobId).Type);
        Assert.Equal(RESP_OK_NODATA, H.CreateHostBlob(9, 4096, Ctx, blobId: second.BlobId).Type);
    }

    [Fact]
    public void ASendWithTwoReadPipesIsRefusedWholeAndTheNextIdIsStillFree()
    {
        using var peer = Open();
        const uint ReadPipe = (uint)CrossDomainIdType.ReadPipe;
        var two = W.Send("ab"u8, (0x80000001, ReadPipe, 0), (0x80000002, ReadPipe, 0));
        Assert.Equal(RESP_ERR_UNSPEC, H.Submit3D(Ctx, two).Type);
        Assert.Contains(H.Trace, line => line.Contains(nameof(CrossDomainChannelError.TooManyReadPipes), StringComparison.Ordinal));
        Assert.False(peer.Poll(100_000, SelectMode.SelectRead)); // nothing went out

        Assert.Equal(RESP_OK_NODATA, H.Submit3D(Ctx, W.Send("cd"u8, (0x80000001, ReadPipe, 0))).Type);
        var buffer = new byte[2];
        Assert.Equal(2, peer.Receive(buffer));
        Assert.Equal("cd"u8.ToArray(), buffer);
    }

    /// <summary>The product's guest-side encoder (used by the guest proxy) writes exactly upstream's bytes.</summary>
    [Fact]
    public void TheProductsEncoderWritesUpstreamsLayout()
    {
        Assert.Equal(W.Init(3, 4, 20), CrossDomainCommands.Init(3, 4, 20));
        Assert.Equal(W.Poll(), CrossDomainCommands.Poll());
        Assert.Equal(W.Write(0x80000001, "hello"u8, hangUp: true), CrossDomainCommands.Write(0x80000001, "hello"u8, hangUp: true));
        Assert.Equal(W.Send("wayland"u8, (5, 1, 8192), (0x80000001, 3, 0)),
            CrossDomainCommands.Send("wayland"u8, [new CrossDomainIdentifier(5, 1, 8192), new CrossDomainIdentifier(0x80000001, 3, 0)]));

        var requirements = new CrossDomainImageRequirements { Modifier = 0x0102030405060708, SizeBytes = 0x1122334455667788, BlobId = 9, MapInfo = 3, MemoryIdx = -1, PhysicalDeviceIdx = -2 };
        requirements.Strides[1] = 7;
        requirements.Offsets[2] = 8;
        var ring = new byte[64];
        Assert.Equal(CrossDomainRingError.None, CrossDomainRingWriter.WriteImageRequirements(ring, in requirements));
        var parsed = W.ParseImageRequirements(ring);
        Assert.Equal((7u, 8u, 0x0102030405060708UL, 0x1122334455667788UL), (parsed.Strides[1], parsed.Offsets[2], parsed.Modifier, parsed.Size));
        Assert.Equal((9u, 3u, -1, -2), (parsed.BlobId, parsed.MapInfo, parsed.MemoryIdx, parsed.PhysicalDeviceIdx));
        Assert.Equal(64, Marshal.SizeOf<CrossDomainImageRequirements>());
    }
}
