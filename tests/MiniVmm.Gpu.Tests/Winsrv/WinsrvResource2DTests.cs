using System.Collections.Concurrent;
using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Gpu.Tests.CrossDomain;
using MiniVmm.Memory;
using MiniVmm.Sys;
using MiniVmm.Virtio;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Tests.Support;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Winsrv;

/// <summary>
/// winsrv as the 2018 design had it: ordinary 2D resources with guest backing go to the compositor as one memfd per
/// resource, filled from the backing at TX, kept current by TRANSFER_TO_HOST_2D, kept until UNREF.
/// </summary>
[Collection("Winsrv")]
public sealed class WinsrvResource2DTests
{
    private const uint Res = 5, Width = 16, Height = 8, Stride = Width * 4, Bytes = Stride * Height;
    private const ulong BackingAt = 24 << 20; // above the harness's queues

    /// <summary>CREATE_2D and ATTACH_BACKING in two entries that are not adjacent in guest memory.</summary>
    private static void CreateWithBacking(WinsrvHarness h, uint id, uint width, uint height, ulong at)
    {
        Assert.Equal(RESP_OK_NODATA, h.SubmitControl(new VirtioGpuResourceCreate2d
        {
            Hdr = { Type = (uint)CMD_RESOURCE_CREATE_2D }, ResourceId = id, Format = (uint)VirtioGpuFormat.B8G8R8X8_UNORM, Width = width, Height = height,
        }));
        uint bytes = width * height * 4, half = bytes / 2;
        var attach = new VirtioGpuResourceAttachBacking { Hdr = { Type = (uint)CMD_RESOURCE_ATTACH_BACKING }, ResourceId = id, NrEntries = 2 };
        byte[] request = [.. GpuHarness.Bytes(in attach),
            .. GpuHarness.Bytes(new VirtioGpuMemEntry { Addr = at, Length = half }),
            .. GpuHarness.Bytes(new VirtioGpuMemEntry { Addr = at + half + 8192, Length = bytes - half })];
        Assert.Equal(RESP_OK_NODATA, h.SubmitControl(request));
    }

    /// <summary>Writes the image <paramref name="image"/> (tightly packed rows) into the two backing entries.</summary>
    private static void WriteBacking(WinsrvHarness h, ReadOnlySpan<byte> image, ulong at)
    {
        int half = image.Length / 2;
        h.Memory.Write(new GuestAddress(at), image[..half]);
        h.Memory.Write(new GuestAddress(at + (ulong)half + 8192), image[half..]);
    }

    private static byte[] Image(byte seed) => [.. Enumerable.Range(0, (int)Bytes).Select(i => (byte)(i * 7 + seed))];

    /// <summary>What the compositor got: the bytes and the one fd that came with them.</summary>
    private static (byte[] Data, Fd Fd) ReceiveWithFd(Socket peer, int length)
    {
        Assert.True(peer.Poll(10_000_000, SelectMode.SelectRead));
        var buffer = new byte[length];
        using var fds = new FdQueue();
        int got = UnixSocket.Receive(new Fd((int)peer.Handle, ownsHandle: false), buffer, fds, out int errno, out _);
        Assert.True(got == length, $"received {got} bytes, errno {errno}");
        Assert.Equal(1, fds.Count);
        Assert.True(fds.TryDequeue(out var fd));
        return (buffer, fd);
    }

    private static byte[] ReadFd(Fd fd, int length)
    {
        using var handle = new SafeFileHandle(fd.DangerousGetHandle(), ownsHandle: false);
        var bytes = new byte[length];
        Assert.Equal(length, RandomAccess.Read(handle, bytes, 0));
        return bytes;
    }

    private static void Transfer(WinsrvHarness h, uint id, VirtioGpuRect r) =>
        Assert.Equal(RESP_OK_NODATA, h.SubmitControl(new VirtioGpuTransferToHost2d
        {
            Hdr = { Type = (uint)CMD_TRANSFER_TO_HOST_2D }, R = r, Offset = (ulong)r.Y * Stride + r.X * 4, ResourceId = id,
        }));

    [Fact]
    public void A2DResourceIsAMemfdFilledAtTxAndKeptCurrentByTransfers()
    {
        using var compositor = new ScriptedCompositor();
        using var h = new WinsrvHarness(compositor.Path);
        CreateWithBacking(h, Res, Width, Height, BackingAt);
        var first = Image(1);
        WriteBacking(h, first, BackingAt);
        long before = h.Device.Backend.HostBytes;
        Assert.Equal(RESP_OK_NODATA, h.Connect(1));
        using var peer = compositor.Accept();

        Assert.Equal(RESP_OK_NODATA, h.Send(1, "pool"u8, [Res]));
        var (data, fd) = ReceiveWithFd(peer, 4);
        using var memfd = fd;
        Assert.Equal("pool"u8.ToArray(), data);
        using (var stat = new SafeFileHandle(memfd.DangerousGetHandle(), ownsHandle: false))
            Assert.Equal(4096, RandomAccess.GetLength(stat)); // the image, in whole pages
        Assert.Equal(first, ReadFd(memfd, (int)Bytes));
        Assert.Equal(before + 4096, h.Device.Backend.HostBytes); // the memfd counts against the cap

        // A copy, not the guest's pages: drawing changes nothing until a transfer, which moves only its rectangle.
        var second = Image(100);
        WriteBacking(h, second, BackingAt);
        Assert.Equal(first, ReadFd(memfd, (int)Bytes));
        Transfer(h, Res, new VirtioGpuRect(4, 2, 8, 3));
        var seen = ReadFd(memfd, (int)Bytes);
        for (int y = 0; y < Height; y++)
        {
            for (int x = 0; x < Width; x++)
            {
                bool inside = x is >= 4 and < 12 && y is >= 2 and < 5;
                int at = y * (int)Stride + x * 4;
                Assert.True((inside ? second : first).AsSpan(at, 4).SequenceEqual(seen.AsSpan(at, 4)), $"pixel ({x},{y})");
            }
        }

        // Each TX that names it refills it from the backing; it is the same file the compositor already maps.
        Assert.Equal(RESP_OK_NODATA, h.Send(1, "again"u8, [Res]));
        var (_, again) = ReceiveWithFd(peer, 5);
        again.Dispose();
        Assert.Equal(second, ReadFd(memfd, (int)Bytes));

        // UNREF frees the host's memfd and its share of the cap; the compositor's fd stays valid.
        Assert.Equal(RESP_OK_NODATA, h.SubmitControl(new VirtioGpuResourceUnref { Hdr = { Type = (uint)CMD_RESOURCE_UNREF }, ResourceId = Res }));
        Assert.Equal(before - Bytes, h.Device.Backend.HostBytes);
        Assert.Equal(second, ReadFd(memfd, (int)Bytes));
    }

    [Fact]
    public void ResourcesThatCannotBeSharedAreRefusedAndTheDeviceKeepsServing()
    {
        using var compositor = new ScriptedCompositor();
        // The cap holds the 512-byte resource but not its 4 KiB memfd as well.
        using var h = new WinsrvHarness(compositor.Path, new GpuOptions { Edid = false, Winsrv = true, MaxHostMemoryBytes = 4096 });
        Assert.Equal(RESP_OK_NODATA, h.Connect(1));
        using var peer = compositor.Accept();
        CreateWithBacking(h, Res, Width, Height, BackingAt);
        Assert.Equal(RESP_ERR_OUT_OF_MEMORY, h.Send(1, "x"u8, [Res]));
        Assert.Contains(h.Trace, line => line.Contains("past the 4096-byte cap", StringComparison.Ordinal));

        Assert.Equal(RESP_OK_NODATA, h.SubmitControl(new VirtioGpuResourceDetachBacking { Hdr = { Type = (uint)CMD_RESOURCE_DETACH_BACKING }, ResourceId = Res }));
        Assert.Equal(RESP_ERR_INVALID_RESOURCE_ID, h.Send(1, "x"u8, [Res])); // no backing to fill it from
        Assert.Contains(h.Trace, line => line.Contains($"2D resource {Res} has no guest backing", StringComparison.Ordinal));
        Assert.Equal(RESP_ERR_INVALID_RESOURCE_ID, h.Send(1, "x"u8, [Res + 1])); // no such resource

        Assert.False(peer.Poll(100_000, SelectMode.SelectRead)); // none of it reached the compositor
        Assert.Equal(RESP_OK_NODATA, h.Send(1, "ok"u8));
        Assert.Equal("ok"u8.ToArray(), ScriptedCompositor.Read(peer, 2));
    }

    /// <summary>The 2018 flow end to end: the window's pixels are drawn into a 2D resource's guest backing and reach Weston.</summary>
    [Fact]
    public void AToplevelDrawnIntoA2DResourceAppearsInWestonsScreenshot()
    {
        using var weston = WestonCompositor.Start(640, 480);
        using var loop = new EventLoop("winsrv-2d");
        loop.Start();
        var trace = new ConcurrentQueue<string>();
        // No blobs, no contexts: what a 2018 guest had.
        using var h = new WinsrvHarness(weston.SocketPath, new GpuOptions { Edid = false, Winsrv = true, WinsrvTrace = trace.Enqueue }, loop: loop);
        const int WindowStride = GuestWaylandWindow.Width * 4;
        const uint Window = 30;
        CreateWithBacking(h, Window, GuestWaylandWindow.Width, GuestWaylandWindow.Height, BackingAt);
        var pattern = GuestWaylandWindow.Pattern(WindowStride);
        WriteBacking(h, pattern, BackingAt);
        Assert.Equal(RESP_OK_NODATA, h.Connect(7));
        h.PostRx(16);

        var window = new GuestWaylandWindow(new WinsrvPipe(h, 7));
        window.CreateToplevel();
        window.Show(Window, pattern.Length, WindowStride);
        GuestWaylandWindow.AssertOnScreen(weston, () => string.Join('\n', trace));
        Assert.Contains(trace, l => l.StartsWith("winsrv TX fd=7 len=", StringComparison.Ordinal) && l.Contains($"ids=[{Window}]", StringComparison.Ordinal));
        Assert.Null(loop.Failure);
    }
}
