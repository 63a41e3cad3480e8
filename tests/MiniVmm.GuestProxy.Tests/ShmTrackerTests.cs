using Microsoft.Win32.SafeHandles;
using MiniVmm.CrossDomain;
using MiniVmm.GuestProxy.Shm;
using MiniVmm.Memory;
using MiniVmm.Sys;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;
using Tmds.Linux;

namespace MiniVmm.GuestProxy.Tests;

/// <summary>
/// <see cref="ShmTracker"/> on its own, fed raw client requests, over memfd "blobs" (<see cref="MemfdTransport"/>):
/// what each wl_buffer costs the host, what the compositor is sent instead of the client's pool requests, which bytes
/// a commit copies, and when blobs and the client's fd are freed.
/// </summary>
public sealed class ShmTrackerTests : IDisposable
{
    private const uint Registry = 2, Shm = 3, Compositor = 4, Surface = 5, Pool = 6, BufferA = 7, BufferB = 8;
    private const int Width = 16, Height = 8, Stride = Width * 4, HostStride = 64; // 16 XRGB pixels: 64 bytes, already 64-aligned
    private const uint Xr24 = 0x34325258;
    private readonly MemfdTransport _transport = new();
    private readonly ClientEventStream _events = new();
    private readonly ShmTracker _tracker;
    private readonly SafeFileHandle _clientFile;
    private readonly Fd _clientFd; // the tracker's copy of the client's fd
    private readonly Queue<Fd> _fds = new();

    public ShmTrackerTests()
    {
        _tracker = new ShmTracker(_transport, _events);
        _clientFile = Memfd.TryCreate("client-pool", 512L << 20, out string? error) ?? throw new InvalidOperationException(error); // sparse
        _clientFd = new Fd(LibC.fcntl((int)_clientFile.DangerousGetHandle(), LibC.F_DUPFD_CLOEXEC, 0));
        Assert.Null(Feed(w =>
        {
            WlDisplay.GetRegistry(w, 1, Registry);
            WlRegistry.Bind(w, Registry, 1, WlShm.Name, 1, Shm);
            WlRegistry.Bind(w, Registry, 2, WlCompositor.Name, 4, Compositor);
            WlCompositor.CreateSurface(w, Compositor, Surface);
        }).Refusal);
    }

    public void Dispose()
    {
        _tracker.Dispose();
        _transport.Dispose();
        _clientFile.Dispose();
    }

    [Fact]
    public void A512MiBPoolCostsNothingAndEachBufferOneBlobSizedByItsOwnImageQuery()
    {
        var created = CreatePool(512 << 20);
        Assert.Empty(created.Bytes); // the compositor never hears of the client's pool
        Assert.Empty(created.Identifiers);
        Assert.Empty(_transport.Live);

        var first = Feed(w => WlShmPool.CreateBuffer(w, Pool, BufferA, 300 << 20, 1920, 1080, 1920 * 4, WlShm.Format.Xrgb8888));
        var second = Feed(w => WlShmPool.CreateBuffer(w, Pool, BufferB, 500 << 20, 1920, 1080, 1920 * 4, WlShm.Format.Xrgb8888));

        Assert.Null(first.Refusal);
        Assert.Null(second.Refusal);
        Assert.Equal([(1920u, 1080u, Xr24), (1920u, 1080u, Xr24)], _transport.Queries.Select(q => (q.Width, q.Height, q.Format)));
        // Each blob has exactly the blob_id and size its query answered (never blob_id 0), and nothing else was made.
        Assert.Equal(_transport.Queries.Select(q => (q.Answer.BlobId, q.Answer.Size)), _transport.Created.Select(c => (c.BlobId, c.Size)));
        Assert.All(_transport.Created, c => Assert.Equal(1920UL * 4 * 1080, c.Size));
        var blob = Assert.Single(first.Identifiers);
        Assert.Equal((_transport.Created[0].ResourceId, (uint)CrossDomainIdType.VirtgpuBlob, 1920u * 4 * 1080), (blob.Id, blob.Type, blob.Size));
        Assert.Equal(Messages(w => CompositorBuffer(w, BufferA, 1920, 1080, 1920 * 4)), first.Bytes);
        // The second buffer's pool replaces the first under the client's id; the client never hears of that destroy.
        Assert.Equal(Messages(w =>
        {
            WlShmPool.Destroy(w, Pool);
            CompositorBuffer(w, BufferB, 1920, 1080, 1920 * 4);
        }), second.Bytes);
        Assert.Empty(_events.Take(DeleteId(Pool), []));
        Assert.Equal(2, _transport.Live.Count);
    }

    [Fact]
    public void ACommitCopiesTheWholeBufferFirstThenOnlyItsDamage()
    {
        CreatePool(4096);
        Feed(w => WlShmPool.CreateBuffer(w, Pool, BufferA, 1024, Width, Height, Stride, WlShm.Format.Xrgb8888));
        var blob = _transport.Live[0];
        WriteClient(1024, Stride * Height, 0x11);
        Assert.Null(Feed(w => Commit(w, BufferA)).Refusal); // no damage, but the blob has never seen the buffer
        Assert.All(_transport.Read(blob, 0, Stride * Height), b => Assert.Equal(0x11, b));
        Assert.Equal(Stride * Height, _tracker.BytesCopied);

        WriteClient(1024, Stride * Height, 0x22); // everything changes, 3x2 pixels at (5, 4) are declared
        Assert.Null(Feed(w =>
        {
            WlSurface.DamageBuffer(w, Surface, 5, 4, 3, 2);
            WlSurface.Commit(w, Surface);
        }).Refusal);

        Assert.Equal(Stride * Height + 3 * 4 * 2, _tracker.BytesCopied);
        var copied = _transport.Read(blob, 0, Stride * Height);
        for (var y = 0; y < Height; y++)
            for (var x = 0; x < Width; x++)
                Assert.Equal(x is >= 5 and < 8 && y is >= 4 and < 6 ? 0x22 : 0x11, copied[y * HostStride + x * 4]);
    }

    /// <summary>Double buffering: damage made while the other buffer was shown is stale in this one too.</summary>
    [Fact]
    public void EachBufferAlsoGetsTheDamageOfCommitsItMissed()
    {
        CreatePool(2 * Stride * Height);
        Feed(w =>
        {
            WlShmPool.CreateBuffer(w, Pool, BufferA, 0, Width, Height, Stride, WlShm.Format.Xrgb8888);
            WlShmPool.CreateBuffer(w, Pool, BufferB, Stride * Height, Width, Height, Stride, WlShm.Format.Xrgb8888);
        });
        Feed(w => Commit(w, BufferA));
        Feed(w => Commit(w, BufferB));
        var full = _tracker.BytesCopied;
        Assert.Equal(2 * Stride * Height, full);

        Feed(w => Commit(w, BufferA, (0, 0, 2, 2)));
        Assert.Equal(full + 2 * 2 * 4, _tracker.BytesCopied);
        WriteClient(Stride * Height, Stride * Height, 0x33); // B redrawn where A changed and at (9, 5)
        Feed(w => Commit(w, BufferB, (9, 5, 1, 1)));

        Assert.Equal(full + 2 * 2 * 4 + (2 * 2 + 1) * 4, _tracker.BytesCopied);
        var b = _transport.Read(_transport.Live[1], 0, Stride * Height);
        Assert.Equal([0x33, 0x33, 0x33, 0x33, 0x00], new[] { b[0], b[4], b[HostStride], b[HostStride + 4], b[8] });
        Assert.Equal(0x33, b[5 * HostStride + 9 * 4]);
    }

    [Fact]
    public void SurfaceDamageIsScaledByTheBufferScaleAndClippedToTheBuffer()
    {
        CreatePool(4096);
        Feed(w => WlShmPool.CreateBuffer(w, Pool, BufferA, 0, Width, Height, Stride, WlShm.Format.Xrgb8888));
        Feed(w => Commit(w, BufferA));
        var before = _tracker.BytesCopied;

        Feed(w =>
        {
            WlSurface.SetBufferScale(w, Surface, 2);
            WlSurface.Damage(w, Surface, 1, 1, 2, 1); // buffer pixels (2, 2) to (6, 4)
            WlSurface.Damage(w, Surface, 7, 3, 100, 100); // buffer pixels (14, 6) to the corner (16, 8)
            WlSurface.Commit(w, Surface);
        });

        Assert.Equal(before + (4 * 2 + 2 * 2) * 4, _tracker.BytesCopied);
    }

    [Fact]
    public void AClientStrideWiderThanTheHostsIsCopiedRowByRow()
    {
        const int clientStride = Stride + 20;
        CreatePool(4096);
        Feed(w => WlShmPool.CreateBuffer(w, Pool, BufferA, 100, Width, Height, clientStride, WlShm.Format.Xrgb8888));
        for (var row = 0; row < Height; row++)
            WriteClient(100 + row * clientStride, Stride, (byte)(row + 1));
        Feed(w => Commit(w, BufferA));

        var copied = _transport.Read(_transport.Live[0], 0, HostStride * Height);
        for (var row = 0; row < Height; row++)
            Assert.All(copied.AsSpan(row * HostStride, Stride).ToArray(), value => Assert.Equal(row + 1, value));
        Assert.Equal(Stride * Height, _tracker.BytesCopied); // the 20 bytes of padding per row are not copied
    }

    [Fact]
    public void APoolTheCompositorNeverHadIsDestroyedWithASyncWhoseDoneTheClientNeverSees()
    {
        CreatePool(4096);
        var destroyed = Feed(w => WlShmPool.Destroy(w, Pool));

        Assert.Equal(Messages(w => WlDisplay.Sync(w, 1, Pool)), destroyed.Bytes);
        using var writer = new WireWriter();
        WlCallback.EmitDone(writer, Pool, 42);
        var doneThenDeleteId = writer.Written.ToArray().Concat(DeleteId(Pool)).ToArray();
        Assert.Equal(DeleteId(Pool), _events.Take(doneThenDeleteId, []));
        Assert.True(_clientFd.IsClosed);
    }

    [Fact]
    public void EachBlobIsFreedWithItsBufferAndTheClientsFdWithTheLastUser()
    {
        CreatePool(4096);
        Feed(w => WlShmPool.CreateBuffer(w, Pool, BufferA, 0, Width, Height, Stride, WlShm.Format.Xrgb8888));
        Feed(w => WlShmPool.CreateBuffer(w, Pool, BufferB, 1024, Width, Height, Stride, WlShm.Format.Xrgb8888));
        var (a, b) = (_transport.Live[0], _transport.Live[1]);

        Assert.Empty(Feed(w => WlShmPool.Resize(w, Pool, 8192)).Bytes); // nothing to resize on the compositor
        Assert.Equal(Messages(w => WlShmPool.Destroy(w, Pool)), Feed(w => WlShmPool.Destroy(w, Pool)).Bytes);
        Assert.False(_clientFd.IsClosed); // the buffers still read from it
        Feed(w => WlBuffer.Destroy(w, BufferA));
        Assert.Equal([b], _transport.Live);
        Feed(w => WlBuffer.Destroy(w, BufferB));
        Assert.Empty(_transport.Live);
        Assert.True(_clientFd.IsClosed);
        Assert.DoesNotContain(a, _transport.Live);
    }

    [Fact]
    public void AReleasedWlShmGoesToTheCompositorAndItsPoolsCannotMakeBuffersWithoutAnother()
    {
        CreatePool(4096);
        var released = Feed(w => WlShm.Release(w, Shm)); // wl_shm version 2, from the pinned wayland.xml

        Assert.Null(released.Refusal);
        Assert.Equal(Messages(w => WlShm.Release(w, Shm)), released.Bytes);
        var refused = Feed(w => WlShmPool.CreateBuffer(w, Pool, BufferA, 0, Width, Height, Stride, WlShm.Format.Xrgb8888));
        Assert.Contains("released every wl_shm", refused.Refusal, StringComparison.Ordinal);
        Assert.Empty(_transport.Queries);
    }

    [Theory]
    [InlineData(4000, 16, 8, 64, "at 4000 in a 4096-byte pool")]
    [InlineData(0, 16, 8, 60, "stride 60")]
    [InlineData(0, 0, 8, 64, "of 0x8")]
    public void ABufferTheCompositorWouldRefuseClosesTheClient(int offset, int width, int height, int stride, string reason)
    {
        CreatePool(4096);
        var refused = Feed(w => WlShmPool.CreateBuffer(w, Pool, BufferA, offset, width, height, stride, WlShm.Format.Xrgb8888));
        Assert.Contains(reason, refused.Refusal, StringComparison.Ordinal);
        Assert.Empty(_transport.Queries);
    }

    [Fact]
    public void AFormatWithoutAPackedLayoutOrWithoutAHostLayoutOrAShrinkClosesTheClient()
    {
        CreatePool(4096);
        Assert.Contains("NV12", Feed(w => WlShmPool.CreateBuffer(w, Pool, BufferA, 0, 16, 8, 16, (WlShm.Format)0x3231564E)).Refusal, StringComparison.Ordinal);
        Assert.Contains("no layout", Feed(w => WlShmPool.CreateBuffer(w, Pool, BufferA, 0, 16, 8, 32, (WlShm.Format)0x36314752)).Refusal, StringComparison.Ordinal); // RG16
        Assert.Contains("pools only grow", Feed(w => WlShmPool.Resize(w, Pool, 100)).Refusal, StringComparison.Ordinal);
        Assert.Empty(_transport.Live);
    }

    private CompositorMessages CreatePool(int size)
    {
        _fds.Enqueue(_clientFd);
        using var placeholder = File.OpenHandle("/dev/null"); // the fd travels through _fds, not the writer
        var created = Feed(w => WlShm.CreatePool(w, Shm, Pool, placeholder, size));
        Assert.Null(created.Refusal);
        return created;
    }

    /// <summary>What the compositor is sent for a client's create_buffer: a pool on the buffer's blob, the buffer on it.</summary>
    private static void CompositorBuffer(WireWriter w, uint buffer, int width, int height, int hostStride)
    {
        var start = w.BeginMessage(Shm, WlShm.Requests.CreatePool);
        w.WriteNewId(Pool);
        w.WriteInt(hostStride * height);
        w.EndMessage(start);
        WlShmPool.CreateBuffer(w, Pool, buffer, 0, width, height, hostStride, WlShm.Format.Xrgb8888);
    }

    private static byte[] DeleteId(uint id)
    {
        using var writer = new WireWriter();
        WlDisplay.EmitDeleteId(writer, 1, id);
        return writer.Written.ToArray();
    }

    private static void Commit(WireWriter writer, uint buffer, (int X, int Y, int W, int H)? damage = null)
    {
        WlSurface.Attach(writer, Surface, buffer, 0, 0);
        if (damage is { } d)
            WlSurface.DamageBuffer(writer, Surface, d.X, d.Y, d.W, d.H);
        WlSurface.Commit(writer, Surface);
    }

    private void WriteClient(long offset, int length, byte value)
    {
        var bytes = new byte[length];
        Array.Fill(bytes, value);
        RandomAccess.Write(_clientFile, bytes, offset);
    }

    private sealed record CompositorMessages(string? Refusal, byte[] Bytes, List<CrossDomainIdentifier> Identifiers);

    /// <summary>Runs the requests <paramref name="write"/> makes through the tracker, as the session does: what would be sent.</summary>
    private CompositorMessages Feed(Action<WireWriter> write)
    {
        var input = Messages(write);
        var output = new List<byte>();
        var identifiers = new List<CrossDomainIdentifier>();
        using var replacement = new WireWriter();
        for (var offset = 0; WireMessage.TryParse(input.AsSpan(offset), out var message, out _); offset += message.Size)
        {
            replacement.Clear();
            if (_tracker.Inspect(message, _fds, identifiers, replacement, out var replaced) is { } refusal)
                return new(refusal, [], identifiers);
            output.AddRange(replaced ? replacement.Written : input.AsSpan(offset, message.Size));
        }
        _tracker.AfterSend();
        return new(null, [.. output], identifiers);
    }

    private static byte[] Messages(Action<WireWriter> write)
    {
        using var writer = new WireWriter();
        write(writer);
        return writer.Written.ToArray();
    }
}
