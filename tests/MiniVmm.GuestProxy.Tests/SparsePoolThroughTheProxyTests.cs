using Microsoft.Win32.SafeHandles;
using MiniVmm.Memory;
using MiniVmm.Sys;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;
using MiniVmm.Wayland.Tests.Support;

namespace MiniVmm.GuestProxy.Tests;

/// <summary>
/// What a terminal emulator does (issue 12, part 4): a 512 MiB wl_shm pool of which it uses two 1080p buffers at high
/// offsets, through proxy → device model → Weston, by a client of the test's own (<see cref="RawWaylandClient"/>).
/// The device must hold two 1080p blobs and no more, both buffers must show, and a 64x64 damage must show.
/// </summary>
[Collection("Weston")]
public sealed class SparsePoolThroughTheProxyTests
{
    private const int Width = 1920, Height = 1080, Stride = Width * 4, BufferBytes = Stride * Height;
    private const long PoolSize = 512L << 20, OffsetA = 300L << 20, OffsetB = 500L << 20;
    private const int Rings = 2; // the device's resources for a client that holds no blob
    private static readonly (byte R, byte G, byte B) ColourA = (0xC8, 0x32, 0x14), ColourB = (0x14, 0x64, 0xC8), Square = (0x28, 0xDC, 0x50);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TwoFullHdBuffersAtHighOffsetsOfA512MiBPoolCostTwoBuffersAndShow(bool overDrm)
    {
        // An output larger than the window, so desktop-shell places all of it in view.
        using var chain = new ProxyFixture(shell: "desktop-shell.so", width: 2560, height: 1440, overDrm: overDrm);
        using var client = new RawWaylandClient(chain.SocketPath);
        var (shm, surface) = client.CreateToplevel("sparse pool");
        using var file = Memfd.TryCreate("terminal-pool", PoolSize, out string? error) ?? throw new InvalidOperationException(error);
        using var writer = new WireWriter();
        Fill(file, OffsetA, 0, 0, Width, Height, ColourA);
        Fill(file, OffsetB, 0, 0, Width, Height, ColourB);

        var (pool, bufferA, bufferB) = (client.NewId(), client.NewId(), client.NewId());
        WlShm.CreatePool(writer, shm, pool, file, (int)PoolSize);
        WlShmPool.CreateBuffer(writer, pool, bufferA, (int)OffsetA, Width, Height, Stride, WlShm.Format.Xrgb8888);
        WlShmPool.CreateBuffer(writer, pool, bufferB, (int)OffsetB, Width, Height, Stride, WlShm.Format.Xrgb8888);
        client.RoundTrip(writer);

        Assert.Equal(2L * BufferBytes, overDrm ? Assert.Single(chain.DrmFiles).HostBytes : Assert.Single(chain.Transports).HostBytes);
        if (!overDrm)
            Assert.Equal(Rings + 2, chain.Transports[0].ResourceCount);

        Show(client, writer, surface, bufferB, (0, 0, Width, Height));
        AssertShows(chain, ColourB, Width * Height);
        Show(client, writer, surface, bufferA, (0, 0, Width, Height));
        AssertShows(chain, ColourA, Width * Height);

        Fill(file, OffsetA, 200, 100, 64, 64, Square);
        Show(client, writer, surface, bufferA, (200, 100, 64, 64));
        AssertShows(chain, Square, 64 * 64);

        WlBuffer.Destroy(writer, bufferA);
        WlBuffer.Destroy(writer, bufferB);
        WlShmPool.Destroy(writer, pool);
        client.RoundTrip(writer);
        Assert.Single(client.Events, e => e.Object == 1 && e.Opcode == WlDisplay.Events.DeleteId && BitConverter.ToUInt32(e.Body) == pool);
        Assert.DoesNotContain("closing it", chain.ProxyLog);
        Assert.All(chain.DrmFiles, f => Assert.Empty(f.DeviceErrors));
    }

    private static void Show(RawWaylandClient client, WireWriter writer, uint surface, uint buffer, (int X, int Y, int W, int H) damage)
    {
        WlSurface.Attach(writer, surface, buffer, 0, 0);
        WlSurface.DamageBuffer(writer, surface, damage.X, damage.Y, damage.W, damage.H);
        WlSurface.Commit(writer, surface);
        client.RoundTrip(writer);
    }

    /// <summary>A rectangle of one colour in the buffer at <paramref name="offset"/> of the client's file (XRGB8888: B, G, R, X).</summary>
    private static void Fill(SafeFileHandle file, long offset, int x, int y, int width, int height, (byte R, byte G, byte B) colour)
    {
        var row = new byte[width * 4];
        for (var at = 0; at < row.Length; at += 4)
            row.AsSpan(at, 4).SetAll(colour.B, colour.G, colour.R);
        for (var line = y; line < y + height; line++)
            RandomAccess.Write(file, row, offset + (long)line * Stride + x * 4);
    }

    private static void AssertShows(ProxyFixture chain, (byte R, byte G, byte B) colour, int pixels)
    {
        var shot = ShmThroughTheProxyTests.WaitForScreenshot(chain, s => Count(s, colour) == pixels);
        Assert.True(Count(shot, colour) == pixels, $"{Count(shot, colour)} pixels of {colour} in Weston's {shot.Width}x{shot.Height} screenshot, not {pixels}; most common: {Histogram(shot)}\n{chain.Log}");
    }

    private static string Histogram(PngImage shot)
    {
        var counts = new Dictionary<(byte, byte, byte), int>();
        for (var y = 0; y < shot.Height; y++)
            for (var x = 0; x < shot.Width; x++)
            {
                var (r, g, b, _) = shot.GetPixel(x, y);
                counts[(r, g, b)] = counts.GetValueOrDefault((r, g, b)) + 1;
            }
        return string.Join(", ", counts.OrderByDescending(c => c.Value).Take(3).Select(c => $"{c.Key}: {c.Value}"));
    }

    private static int Count(PngImage shot, (byte R, byte G, byte B) colour)
    {
        var count = 0;
        for (var y = 0; y < shot.Height; y++)
            for (var x = 0; x < shot.Width; x++)
                count += shot.GetPixel(x, y) is var (r, g, b, _) && (r, g, b) == colour ? 1 : 0;
        return count;
    }
}
