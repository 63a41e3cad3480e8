using Microsoft.Win32.SafeHandles;
using MiniVmm.Gpu.CrossDomain;
using MiniVmm.GuestProxy.Shm;
using MiniVmm.Memory;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;
using Tmds.Linux;

namespace MiniVmm.GuestProxy.Tests;

/// <summary>
/// <see cref="ShmTracker"/> on its own, fed raw client requests, over memfd "blobs": pool growth, which blob each
/// buffer's commit lands in, and when blobs and the client's fd are freed.
/// </summary>
public sealed class ShmTrackerTests : IDisposable
{
    private const uint Registry = 2, Shm = 3, Compositor = 4, Surface = 5, Pool = 6, OldBuffer = 7, NewBuffer = 8;
    private const int Page = 4096, Stride = 64, Rows = 16, BufferBytes = Stride * Rows;
    private readonly MemfdTransport _transport = new();
    private readonly ClientEventStream _events = new();
    private readonly ShmTracker _tracker;
    private readonly SafeFileHandle _clientFile;
    private readonly Fd _clientFd; // the tracker's copy of the client's fd
    private readonly Queue<Fd> _fds = new();

    public ShmTrackerTests()
    {
        _tracker = new ShmTracker(_transport, _events);
        _clientFile = Memfd.TryCreate("client-pool", 4 * Page, out string? error) ?? throw new InvalidOperationException(error);
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
    public void GrowingPastTheBlobRecreatesThePoolOnANewBlobAndHidesItsDeleteId()
    {
        CreatePool(Page);
        var grown = Feed(w => WlShmPool.Resize(w, Pool, 4 * Page));

        Assert.Null(grown.Refusal);
        var blob = Assert.Single(grown.Identifiers);
        Assert.Equal(4u * Page, blob.Size);
        Assert.Equal(_transport.Live[^1], blob.Id);
        Assert.Equal(Messages(w =>
        {
            WlShmPool.Destroy(w, Pool);
            var start = w.BeginMessage(Shm, WlShm.Requests.CreatePool);
            w.WriteNewId(Pool);
            w.WriteInt(4 * Page);
            w.EndMessage(start);
        }), grown.Bytes);
        // The compositor answers the destroy with delete_id(Pool): the client, still owning Pool, must not see it.
        using var writer = new WireWriter();
        WlDisplay.EmitDeleteId(writer, 1, Pool);
        Assert.Empty(_events.Take(writer.Written, []));
    }

    /// <summary>wl_shm version 2 has release: growth then re-creates the pool on another live wl_shm, or refuses.</summary>
    [Fact]
    public void GrowingAfterTheClientReleasedItsWlShmUsesAnotherOrRefuses()
    {
        const uint secondShm = 20;
        CreatePool(Page);
        Assert.Null(Feed(w => WlRegistry.Bind(w, Registry, 1, WlShm.Name, 2, secondShm)).Refusal);
        Assert.Null(Feed(w => ReleaseShm(w, Shm)).Refusal);

        var grown = Feed(w => WlShmPool.Resize(w, Pool, 2 * Page));
        Assert.Null(grown.Refusal);
        Assert.Equal(Messages(w =>
        {
            WlShmPool.Destroy(w, Pool);
            var start = w.BeginMessage(secondShm, WlShm.Requests.CreatePool);
            w.WriteNewId(Pool);
            w.WriteInt(2 * Page);
            w.EndMessage(start);
        }), grown.Bytes);

        Assert.Null(Feed(w => ReleaseShm(w, secondShm)).Refusal);
        var refused = Feed(w => WlShmPool.Resize(w, Pool, 3 * Page));
        Assert.Contains("released every wl_shm", refused.Refusal, StringComparison.Ordinal);
    }

    private static void ReleaseShm(WireWriter w, uint shm) => w.EndMessage(w.BeginMessage(shm, 1)); // wl_shm.release (v2)

    [Fact]
    public void AResizeWithinTheBlobIsForwardedAsItIs()
    {
        CreatePool(100);
        var resized = Feed(w => WlShmPool.Resize(w, Pool, Page));

        Assert.Null(resized.Refusal);
        Assert.Empty(resized.Identifiers);
        Assert.Equal(Messages(w => WlShmPool.Resize(w, Pool, Page)), resized.Bytes);
        Assert.Single(_transport.Live);
    }

    [Fact]
    public void EachBufferCommitsIntoTheBlobOfItsOwnGeneration()
    {
        CreatePool(Page);
        var oldBlob = _transport.Live[0];
        Feed(w => WlShmPool.CreateBuffer(w, Pool, OldBuffer, 0, Stride / 4, Rows, Stride, WlShm.Format.Xrgb8888));
        Feed(w => WlShmPool.Resize(w, Pool, 4 * Page));
        var newBlob = _transport.Live[1];
        Feed(w => WlShmPool.CreateBuffer(w, Pool, NewBuffer, 3 * Page, Stride / 4, Rows, Stride, WlShm.Format.Xrgb8888));
        WriteClient(0, 0x11);
        WriteClient(3 * Page, 0x22);

        Assert.Null(Feed(w => Commit(w, OldBuffer)).Refusal);
        Assert.Null(Feed(w => Commit(w, NewBuffer)).Refusal);

        Assert.All(_transport.Read(oldBlob, 0, BufferBytes), b => Assert.Equal(0x11, b));
        Assert.All(_transport.Read(newBlob, 3 * Page, BufferBytes), b => Assert.Equal(0x22, b));
        Assert.All(_transport.Read(newBlob, 0, BufferBytes), b => Assert.Equal(0, b)); // the old buffer's copy went to the old blob only
    }

    [Fact]
    public void EachBlobIsFreedWithItsLastUserAndTheClientsFdWithTheLastBlob()
    {
        CreatePool(Page);
        var oldBlob = _transport.Live[0];
        Feed(w => WlShmPool.CreateBuffer(w, Pool, OldBuffer, 0, Stride / 4, Rows, Stride, WlShm.Format.Xrgb8888));
        Feed(w => WlShmPool.Resize(w, Pool, 2 * Page));
        Feed(w => WlShmPool.Resize(w, Pool, 3 * Page)); // no buffer made from the 2-page generation: it goes at once
        var newBlob = _transport.Live[^1];
        Assert.Equal([oldBlob, newBlob], _transport.Live); // the 2-page one is gone; OldBuffer keeps the first
        Feed(w => WlShmPool.CreateBuffer(w, Pool, NewBuffer, 2 * Page, Stride / 4, Rows, Stride, WlShm.Format.Xrgb8888));

        Feed(w => WlBuffer.Destroy(w, OldBuffer));
        Assert.Equal([newBlob], _transport.Live);
        Feed(w => WlShmPool.Destroy(w, Pool));
        Assert.Equal([newBlob], _transport.Live); // NewBuffer still uses it, as in the compositor
        Assert.False(_clientFd.IsClosed);
        Feed(w => WlBuffer.Destroy(w, NewBuffer));
        Assert.Empty(_transport.Live);
        Assert.True(_clientFd.IsClosed);
    }

    [Fact]
    public void ABufferIdTakenAgainWhileInUseDoesNotKeepItsOldBlob()
    {
        CreatePool(Page);
        Feed(w => WlShmPool.CreateBuffer(w, Pool, OldBuffer, 0, Stride / 4, Rows, Stride, WlShm.Format.Xrgb8888));
        Feed(w => WlShmPool.Resize(w, Pool, 2 * Page));
        var newBlob = _transport.Live[^1];

        // A protocol error for the compositor; the tracker must only not leak the first buffer's generation.
        Feed(w => WlShmPool.CreateBuffer(w, Pool, OldBuffer, Page, Stride / 4, Rows, Stride, WlShm.Format.Xrgb8888));

        Assert.Equal([newBlob], _transport.Live);
    }

    [Fact]
    public void ShrinkingOrGrowingPastTheCapClosesTheClient()
    {
        CreatePool(2 * Page);
        Assert.Contains("pools only grow", Feed(w => WlShmPool.Resize(w, Pool, Page)).Refusal);
        Assert.Contains("this proxy serves", Feed(w => WlShmPool.Resize(w, Pool, (128 << 20) + 1)).Refusal);
        Assert.Single(_transport.Live);
    }

    private void CreatePool(int size)
    {
        _fds.Enqueue(_clientFd);
        using var placeholder = File.OpenHandle("/dev/null"); // the fd travels through _fds, not the writer
        var created = Feed(w => WlShm.CreatePool(w, Shm, Pool, placeholder, size));
        Assert.Null(created.Refusal);
        Assert.Single(created.Identifiers);
    }

    private static void Commit(WireWriter writer, uint buffer)
    {
        WlSurface.Attach(writer, Surface, buffer, 0, 0);
        WlSurface.Commit(writer, Surface);
    }

    private void WriteClient(long offset, byte value)
    {
        var bytes = new byte[BufferBytes];
        Array.Fill(bytes, value);
        RandomAccess.Write(_clientFile, bytes, offset);
    }

    /// <summary>Runs the requests <paramref name="write"/> makes through the tracker, as the session does: what would be sent.</summary>
    private (string? Refusal, byte[] Bytes, List<CrossDomainIdentifier> Identifiers) Feed(Action<WireWriter> write)
    {
        var input = Messages(write);
        var output = new List<byte>();
        var identifiers = new List<CrossDomainIdentifier>();
        using var replacement = new WireWriter();
        for (var offset = 0; WireMessage.TryParse(input.AsSpan(offset), out var message, out _); offset += message.Size)
        {
            replacement.Clear();
            if (_tracker.Inspect(message, _fds, identifiers, replacement) is { } refusal)
                return (refusal, [], identifiers);
            output.AddRange(replacement.Written.IsEmpty ? input.AsSpan(offset, message.Size) : replacement.Written);
        }
        _tracker.AfterSend();
        return (null, [.. output], identifiers);
    }

    private static byte[] Messages(Action<WireWriter> write)
    {
        using var writer = new WireWriter();
        write(writer);
        return writer.Written.ToArray();
    }
}
