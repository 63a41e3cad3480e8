using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Microsoft.Win32.SafeHandles;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;
using MiniVmm.Wayland.Tests.Support;

namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>What differs between the two front doors: how the guest proxy's bytes go out and come back.</summary>
internal interface IGuestWaylandPipe
{
    /// <summary>Sends Wayland bytes; <paramref name="blobResourceId"/> (0 for none) travels as the one fd.</summary>
    void Send(ReadOnlySpan<byte> bytes, uint blobResourceId = 0);

    /// <summary>
    /// The next bytes from the compositor (bounded wait); empty means the compositor hung up. The blob ids that came
    /// with them (the compositor's fds: a keymap) are added to <paramref name="blobIds"/>.
    /// </summary>
    byte[] Receive(List<uint> blobIds);
}

/// <summary>
/// The Wayland client a guest app would be, written as raw messages over a front door: bind wl_compositor, wl_shm
/// and xdg_wm_base; make a toplevel and ack its configure; then a wl_shm pool whose fd is a HOST3D blob, a buffer,
/// attach, damage, commit. Also the pattern the guest draws (four quadrants, a magenta marker at the top-left) and
/// the check of Weston's screenshot.
/// </summary>
internal sealed partial class GuestWaylandWindow(IGuestWaylandPipe pipe)
{
    public const int Width = 128, Height = 96;
    public const uint Display = 1, Registry = 2, Compositor = 4, Shm = 5, WmBase = 6, Surface = 7, XdgSurface = 8, Toplevel = 9,
        Pool = 10, Buffer = 11;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly (byte R, byte G, byte B) Marker = (0xFF, 0x00, 0xFF);
    private static readonly (byte R, byte G, byte B)[] Quadrant = [(0xE0, 0x20, 0x20), (0x20, 0xC0, 0x30), (0x20, 0x40, 0xE0), (0xF0, 0xF0, 0xF0)];
    private readonly List<byte> _pending = [];
    private readonly List<uint> _blobIds = []; // fds from the compositor, as blob ids, in arrival order
    private int _roundTrips;

    public Dictionary<string, uint> Globals { get; } = [];

    /// <summary>Interface name → the version the compositor advertises.</summary>
    public Dictionary<string, uint> Versions { get; } = [];

    /// <summary>get_registry, bind the three globals, surface + xdg_surface + toplevel, then ack the first configure.</summary>
    public void CreateToplevel()
    {
        using var writer = new WireWriter();
        ReadGlobals(writer);
        WlRegistry.Bind(writer, Registry, Globals[WlCompositor.Name], WlCompositor.Name, 4, Compositor);
        WlRegistry.Bind(writer, Registry, Globals[WlShm.Name], WlShm.Name, 1, Shm);
        WlRegistry.Bind(writer, Registry, Globals[XdgWmBase.Name], XdgWmBase.Name, 1, WmBase);
        WlCompositor.CreateSurface(writer, Compositor, Surface);
        XdgWmBase.GetXdgSurface(writer, WmBase, XdgSurface, Surface);
        MiniVmm.Wayland.Protocol.XdgSurface.GetToplevel(writer, XdgSurface, Toplevel);
        XdgToplevel.SetTitle(writer, Toplevel, "minivmm guest");
        WlSurface.Commit(writer, Surface);
        Flush(writer);
        var configure = ReceiveUntil(m => m.Object == XdgSurface && m.Opcode == MiniVmm.Wayland.Protocol.XdgSurface.Events.Configure);
        MiniVmm.Wayland.Protocol.XdgSurface.AckConfigure(writer, XdgSurface, BinaryPrimitives.ReadUInt32LittleEndian(configure.Body));
        Flush(writer);
    }

    /// <summary>On a fresh client: get_registry and a round trip, see <see cref="ReadGlobals(WireWriter)"/>.</summary>
    public void ReadGlobals()
    {
        using var writer = new WireWriter();
        ReadGlobals(writer);
    }

    /// <summary>get_registry and a round trip: fills <see cref="Globals"/> (name → global name) and their versions.</summary>
    private void ReadGlobals(WireWriter writer)
    {
        WlDisplay.GetRegistry(writer, Display, Registry);
        foreach (var (_, _, body) in RoundTrip(writer).Where(m => m.Object == Registry && m.Opcode == WlRegistry.Events.Global))
        {
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(4));
            var name = Encoding.UTF8.GetString(body, 8, length - 1);
            Globals[name] = BinaryPrimitives.ReadUInt32LittleEndian(body);
            Versions[name] = BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(8 + ((length + 3) & ~3)));
        }
    }

    /// <summary>A pool on blob <paramref name="blobResourceId"/> (sent as the fd), an XRGB8888 buffer, attach, damage, commit, sync.</summary>
    public void Show(uint blobResourceId, int poolSize, int stride)
    {
        using var writer = new WireWriter();
        using (var placeholder = File.OpenHandle("/dev/null"))
            WlShm.CreatePool(writer, Shm, Pool, placeholder, poolSize);
        var bytes = writer.Written.ToArray();
        writer.Clear(); // the fd travels as the blob's identifier, not in the writer: keep only the bytes
        pipe.Send(bytes, blobResourceId);
        WlShmPool.CreateBuffer(writer, Pool, Buffer, 0, Width, Height, stride, WlShm.Format.Xrgb8888);
        WlSurface.Attach(writer, Surface, Buffer, 0, 0);
        WlSurface.Damage(writer, Surface, 0, 0, Width, Height);
        WlSurface.Commit(writer, Surface);
        RoundTrip(writer);
    }

    /// <summary>The pattern the guest draws: XRGB8888 (bytes B, G, R, X = 0xFF), rows <paramref name="stride"/> apart.</summary>
    public static byte[] Pattern(int stride)
    {
        var bytes = new byte[stride * Height];
        for (var y = 0; y < Height; y++)
            for (var x = 0; x < Width; x++)
            {
                var (r, g, b) = Expected(x, y);
                var at = y * stride + x * 4;
                (bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]) = (b, g, r, 0xFF);
            }
        return bytes;
    }

    /// <summary>Writes <paramref name="bytes"/> into the blob's pages through the memfd the device mapped into the region.</summary>
    public static void WriteThroughMapping(FakeHostVisibleRegion region, byte[] bytes)
    {
        var (_, (_, memfd)) = Assert.Single(region.Mappings);
        using var handle = new SafeFileHandle(memfd.DangerousGetHandle(), ownsHandle: false);
        RandomAccess.Write(handle, bytes, 0);
    }

    /// <summary>Finds the marker in Weston's screenshot (retrying while Weston repaints) and checks the quadrants.</summary>
    public static void AssertOnScreen(WestonCompositor weston, Func<string> diagnostics)
    {
        var clock = Stopwatch.StartNew();
        var shot = weston.TakeScreenshot();
        var origin = shot.Find(Marker);
        while (origin is null && clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            Thread.Sleep(100);
            shot = weston.TakeScreenshot();
            origin = shot.Find(Marker);
        }
        Assert.True(origin is not null, "the guest's window (magenta marker) is not in Weston's screenshot\n" + diagnostics() + "\n" + weston.Log);
        foreach (var (x, y) in new[] { (10, 10), (100, 20), (30, 80), (120, 90), (63, 47), (64, 48) })
        {
            var pixel = shot.GetPixel(origin.Value.X + x, origin.Value.Y + y);
            Assert.Equal(Expected(x, y), (pixel.R, pixel.G, pixel.B));
        }
    }

    private static (byte R, byte G, byte B) Expected(int x, int y) =>
        x < 4 && y < 4 ? Marker : Quadrant[(y < Height / 2 ? 0 : 2) + (x < Width / 2 ? 0 : 1)];

    /// <summary>Sends what <paramref name="writer"/> holds plus a wl_display.sync; returns every message until its done.</summary>
    private List<(uint Object, ushort Opcode, byte[] Body)> RoundTrip(WireWriter writer)
    {
        // Weston takes new ids only in order: the first sync is 3 (before the binds), later ones follow the buffer.
        var callback = _roundTrips++ == 0 ? 3 : Buffer + (uint)_roundTrips - 1;
        WlDisplay.Sync(writer, Display, callback);
        Flush(writer);
        var seen = new List<(uint, ushort, byte[])>();
        ReceiveUntil(m => { seen.Add(m); return m.Object == callback && m.Opcode == WlCallback.Events.Done; });
        return seen;
    }

    private void Flush(WireWriter writer)
    {
        pipe.Send(writer.Written);
        writer.Clear();
    }

    /// <summary>Reads messages until one matches; answers pings, and fails on wl_display.error or a hang-up.</summary>
    private (uint Object, ushort Opcode, byte[] Body) ReceiveUntil(Func<(uint Object, ushort Opcode, byte[] Body), bool> match)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Timeout)
        {
            var bytes = _pending.ToArray();
            var offset = 0;
            (uint, ushort, byte[])? found = null;
            while (found is null && WireMessage.TryParse(bytes.AsSpan(offset), out var message, out _))
            {
                var m = (message.ObjectId, message.Opcode, message.Body.ToArray());
                offset += message.Size;
                Assert.False(m.ObjectId == Display && m.Opcode == WlDisplay.Events.Error,
                    "wl_display.error: " + WireTrace.Format(WaylandInterfaces.Find(WlDisplay.Name), Display, MessageDirection.Event, m.Opcode, m.Item3));
                if (m.ObjectId == WmBase && m.Opcode == XdgWmBase.Events.Ping)
                    Pong(BinaryPrimitives.ReadUInt32LittleEndian(m.Item3));
                if (match(m))
                    found = m;
            }
            _pending.RemoveRange(0, offset);
            if (found is { } hit)
                return hit;
            var received = pipe.Receive(_blobIds);
            Assert.True(received.Length > 0, "the compositor hung up");
            _pending.AddRange(received);
        }
        throw new TimeoutException("the expected Wayland event did not come");
    }

    private void Pong(uint serial)
    {
        using var writer = new WireWriter();
        XdgWmBase.Pong(writer, WmBase, serial);
        Flush(writer);
    }
}
