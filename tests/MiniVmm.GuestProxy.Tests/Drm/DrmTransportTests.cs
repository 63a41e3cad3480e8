using Microsoft.Win32.SafeHandles;
using MiniVmm.CrossDomain;
using MiniVmm.GuestProxy.Drm;
using MiniVmm.GuestProxy.Native;
using MiniVmm.Memory;
using MiniVmm.Wayland;
using Tmds.Linux;

namespace MiniVmm.GuestProxy.Tests.Drm;

/// <summary>
/// The guest's DRM transport, unchanged, over <see cref="FakeVirtioGpuDrm"/> (a model of Linux 6.1's virtio_gpu driver
/// on MiniVmm's device model) against a stand-in compositor: its ioctl structs, its ring mappings and its fence-event
/// loop carry bytes and fds both ways. This is not the real kernel; the model's fidelity is its own tests' business.
/// </summary>
public sealed class DrmTransportTests
{
    [Fact]
    public void ConnectMakesACapset5ContextWithTwoAttachedRingsAndInitReachesTheCompositor()
    {
        using var compositor = new StandInCompositor();
        var file = new FakeVirtioGpuDrm(compositor.Sockets);
        using (var transport = new DrmCrossDomainTransport(file, FakeVirtioGpuDrm.DevicePath, CrossDomainConstants.ChannelTypeWayland))
        {
            transport.Connect();
            Assert.NotNull(compositor.Client); // INIT made the device connect
            Assert.Equal(
                ["CMD_CTX_CREATE 0", "CMD_RESOURCE_CREATE_BLOB 1", "CMD_CTX_ATTACH_RESOURCE 1", "CMD_RESOURCE_CREATE_BLOB 2", "CMD_CTX_ATTACH_RESOURCE 2", "CMD_SUBMIT_3D 0"],
                file.Sent);
            Assert.Empty(file.DeviceErrors);
            Assert.Equal(2, file.DeviceResources);
        }
        Assert.Equal(0, file.LiveMappings); // Dispose unmaps what the transport mapped of the DRM file
    }

    [Fact]
    public void ASendCarriesBytesAndAHostBlobWhosePagesTheCompositorReads()
    {
        using var chain = new Connected();
        var (compositor, file, transport) = (chain.Compositor, chain.File, chain.Transport);
        var image = transport.GetImageRequirements(32, 64, 0x34325258); // XR24: 128-byte rows, two pages
        Assert.NotEqual(0u, image.BlobId);
        Assert.Equal((128u, 0u, 8192UL), (image.Stride, image.Offset, image.Size));
        var blob = transport.CreateHostBlob(image);
        var pattern = Pattern(8192, seed: 7);
        RandomAccess.Write(Borrow(blob.Fd), pattern, 0);

        transport.Send("hello, compositor"u8, [new(blob.ResourceId, (uint)CrossDomainIdType.VirtgpuBlob, 8192)]);
        transport.DestroyHostBlob(blob);
        blob.Fd.Dispose();

        var (bytes, fds) = compositor.Receive("hello, compositor".Length);
        Assert.Equal("hello, compositor"u8.ToArray(), bytes);
        var fd = Assert.Single(fds);
        Assert.Equal(pattern, ReadAll(fd, 8192));
        Assert.Empty(file.DeviceErrors);
    }

    [Fact]
    public void AnImageQueryTheHostRefusesIsAnErrorNotTheLastAnswer()
    {
        using var chain = new Connected();
        var (compositor, file, transport) = (chain.Compositor, chain.File, chain.Transport);
        var first = transport.GetImageRequirements(16, 16, 0x34325258);
        var second = transport.GetImageRequirements(16, 16, 0x34325258);
        Assert.NotEqual(first.BlobId, second.BlobId); // each query is answered afresh

        var error = Record.Exception(() => transport.GetImageRequirements(16, 16, 0x21212121)); // "!!!!": no format at all
        Assert.IsType<InvalidOperationException>(error);
        Assert.Contains("no layout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AReceiveWaitsForTheFenceEventAndItsBlobOpensWithTheCompositorsContents()
    {
        using var chain = new Connected();
        var (compositor, file, transport) = (chain.Compositor, chain.File, chain.Transport);
        Assert.Null(transport.Receive(TimeSpan.FromMilliseconds(20))); // nothing yet: the POLL stays outstanding

        const int size = 5000; // not a page multiple, as a keymap's is not
        var contents = Pattern(size, seed: 3);
        using var memfd = Memfd.TryCreate("keymap", size, out string? error) ?? throw new InvalidOperationException(error);
        RandomAccess.Write(memfd, contents, 0);
        compositor.Send("reply"u8, (int)memfd.DangerousGetHandle());

        var received = transport.Receive(TimeSpan.FromSeconds(5));
        Assert.NotNull(received);
        Assert.Equal("reply"u8.ToArray(), received.Data);
        var identifier = Assert.Single(received.Identifiers);
        Assert.Equal((uint)CrossDomainIdType.VirtgpuBlob, identifier.Type);
        using var opened = transport.OpenHostBlob(identifier.Id, identifier.Size);
        Assert.Equal(contents, ReadAll(opened, size));
        Assert.Empty(file.DeviceErrors);
    }

    [Fact]
    public void AWriteGoesIntoThePipeTheCompositorSentAndHangUpClosesIt()
    {
        using var chain = new Connected();
        var (compositor, file, transport) = (chain.Compositor, chain.File, chain.Transport);
        var ends = new int[2];
        unsafe
        {
            fixed (int* p = ends)
                Assert.Equal(0, LibC.pipe2(p, LibC.O_CLOEXEC));
        }
        using var readEnd = new Fd(ends[0]);
        using (var writeEnd = new Fd(ends[1]))
            compositor.Send("pipe"u8, writeEnd.Value);

        var received = transport.Receive(TimeSpan.FromSeconds(5));
        Assert.NotNull(received);
        var pipe = Assert.Single(received.Identifiers);
        Assert.Equal((uint)CrossDomainIdType.WritePipe, pipe.Type);
        transport.Write(pipe.Id, "selection text"u8, hangUp: true);

        Assert.Equal("selection text"u8.ToArray(), ReadUntilHangUp(readEnd));
    }

    /// <summary>A stand-in compositor and a connected transport over a fresh model of the driver.</summary>
    private sealed class Connected : IDisposable
    {
        public Connected()
        {
            File = new FakeVirtioGpuDrm(Compositor.Sockets);
            Transport = new DrmCrossDomainTransport(File, FakeVirtioGpuDrm.DevicePath, CrossDomainConstants.ChannelTypeWayland);
            Transport.Connect();
        }

        public StandInCompositor Compositor { get; } = new();
        public FakeVirtioGpuDrm File { get; }
        public DrmCrossDomainTransport Transport { get; }

        public void Dispose()
        {
            Transport.Dispose();
            Compositor.Dispose();
        }
    }

    /// <summary>Bytes that differ per page and per seed, so a wrong page or a wrong blob shows.</summary>
    internal static byte[] Pattern(int length, int seed) => [.. Enumerable.Range(0, length).Select(i => (byte)(i * 31 + i / 4096 * 7 + seed))];

    /// <summary>Everything written into the pipe until its write end closed (5 s at most for each read).</summary>
    private static unsafe byte[] ReadUntilHangUp(Fd readEnd)
    {
        var bytes = new List<byte>();
        var buffer = stackalloc byte[256];
        while (true)
        {
            Assert.True(ProxySocket.WaitReadable(readEnd, 5000), "the pipe was not closed after the WRITE with hang_up");
            var read = (long)LibC.read(readEnd.Value, buffer, 256);
            Assert.True(read >= 0, "read of the pipe failed");
            if (read == 0)
                return [.. bytes];
            bytes.AddRange(new ReadOnlySpan<byte>(buffer, (int)read));
        }
    }

    private static SafeFileHandle Borrow(Fd fd) => new(fd.Value, ownsHandle: false);

    private static byte[] ReadAll(Fd fd, int length)
    {
        var bytes = new byte[length];
        Assert.Equal(length, RandomAccess.Read(Borrow(fd), bytes, 0));
        return bytes;
    }
}
