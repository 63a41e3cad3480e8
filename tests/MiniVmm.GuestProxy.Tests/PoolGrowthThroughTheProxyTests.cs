using Microsoft.Win32.SafeHandles;
using MiniVmm.Memory;
using MiniVmm.Sys;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;
using MiniVmm.Wayland.Tests.Support;
using Tmds.Linux;

namespace MiniVmm.GuestProxy.Tests;

/// <summary>
/// A wl_shm pool grown past its host blob, through proxy → in-process device model → Weston: the proxy re-creates
/// the compositor's pool on a new blob under the client's id. Buffers from before and after the resize must both
/// show their pixels, the client must never hear its pool's id freed, and every blob must go when the client's
/// objects do.
/// </summary>
[Collection("Weston")]
public sealed class PoolGrowthThroughTheProxyTests
{
    private const int Width = 96, Height = 64, Stride = Width * 4, BufferBytes = Stride * Height;
    private const int OldPoolSize = BufferBytes, NewPoolSize = 4 * OldPoolSize, NewOffset = 2 * OldPoolSize; // beyond the old blob
    private const int Rings = 2; // the device's resources for a client that holds no blob
    private static readonly (byte R, byte G, byte B) Before = (0x13, 0x57, 0xE9), After = (0xE9, 0x81, 0x13), Redrawn = (0x2B, 0xD4, 0x6A);

    [Fact]
    public void APoolGrownPastItsBlobShowsOldAndNewBuffersAndFreesEveryBlob()
    {
        using var chain = new ProxyFixture(shell: "desktop-shell.so", width: 640, height: 480);
        using var client = new RawWaylandClient(chain.SocketPath);
        var (shm, surface) = client.CreateToplevel("pool growth");
        using var file = Memfd.TryCreate("pool", OldPoolSize, out string? error) ?? throw new InvalidOperationException(error);
        using var writer = new WireWriter();
        var transport = Assert.Single(chain.Transports);

        Fill(file, 0, Before);
        var pool = client.NewId();
        var oldBuffer = client.NewId();
        WlShm.CreatePool(writer, shm, pool, file, OldPoolSize);
        WlShmPool.CreateBuffer(writer, pool, oldBuffer, 0, Width, Height, Stride, WlShm.Format.Xrgb8888);
        Show(client, writer, surface, oldBuffer);
        AssertShows(chain, Before);
        Assert.Equal(Rings + 1, transport.ResourceCount);

        Assert.Equal(0, LibC.ftruncate((int)file.DangerousGetHandle(), NewPoolSize));
        Fill(file, NewOffset, After);
        WlShmPool.Resize(writer, pool, NewPoolSize);
        var newBuffer = client.NewId();
        WlShmPool.CreateBuffer(writer, pool, newBuffer, NewOffset, Width, Height, Stride, WlShm.Format.Xrgb8888);
        Show(client, writer, surface, newBuffer);
        AssertShows(chain, After);
        Assert.Equal(Rings + 2, transport.ResourceCount); // the old buffer keeps the first blob

        Fill(file, 0, Redrawn); // the old buffer, drawn again: its commit must land in the old blob, where Weston reads it
        Show(client, writer, surface, oldBuffer);
        AssertShows(chain, Redrawn);
        Assert.DoesNotContain(client.Events, IsDeleteIdOf(pool));

        WlBuffer.Destroy(writer, oldBuffer);
        WlBuffer.Destroy(writer, newBuffer);
        WlShmPool.Destroy(writer, pool);
        client.RoundTrip(writer);
        Assert.Single(client.Events, IsDeleteIdOf(pool)); // the client's own destroy, answered once
        var clock = System.Diagnostics.Stopwatch.StartNew(); // blobs go after the SEND, which may end after Weston answered
        while (transport.ResourceCount != Rings && clock.Elapsed < TimeSpan.FromSeconds(5))
            Thread.Sleep(20);
        Assert.Equal(Rings, transport.ResourceCount);
        Assert.DoesNotContain("closing it", chain.ProxyLog);
    }

    private static Predicate<(uint Object, ushort Opcode, byte[] Body)> IsDeleteIdOf(uint id) =>
        e => e.Object == 1 && e.Opcode == WlDisplay.Events.DeleteId && BitConverter.ToUInt32(e.Body) == id;

    private static void Show(RawWaylandClient client, WireWriter writer, uint surface, uint buffer)
    {
        WlSurface.Attach(writer, surface, buffer, 0, 0);
        WlSurface.Damage(writer, surface, 0, 0, Width, Height);
        WlSurface.Commit(writer, surface);
        client.RoundTrip(writer);
    }

    /// <summary>One colour over a whole buffer at <paramref name="offset"/> of the client's file (XRGB8888: B, G, R, X).</summary>
    private static void Fill(SafeFileHandle file, long offset, (byte R, byte G, byte B) colour)
    {
        var pixels = new byte[BufferBytes];
        for (var at = 0; at < pixels.Length; at += 4)
            pixels.AsSpan(at, 4).SetAll(colour.B, colour.G, colour.R);
        RandomAccess.Write(file, pixels, offset);
    }

    /// <summary>The whole window, and only it, in <paramref name="colour"/>: exactly Width × Height such pixels.</summary>
    private static void AssertShows(ProxyFixture chain, (byte R, byte G, byte B) colour)
    {
        var shot = ShmThroughTheProxyTests.WaitForScreenshot(chain, s => Count(s, colour) == Width * Height);
        Assert.True(Count(shot, colour) == Width * Height, $"{Count(shot, colour)} pixels of {colour} in Weston's screenshot, not {Width * Height}\n{chain.Log}");
    }

    private static int Count(PngImage shot, (byte R, byte G, byte B) colour)
    {
        var count = 0;
        for (var y = 0; y < shot.Height; y++)
            for (var x = 0; x < shot.Width; x++)
            {
                var (r, g, b, _) = shot.GetPixel(x, y);
                count += (r, g, b) == colour ? 1 : 0;
            }
        return count;
    }
}
