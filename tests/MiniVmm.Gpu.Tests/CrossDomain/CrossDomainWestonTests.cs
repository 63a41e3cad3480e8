using System.Buffers.Binary;
using System.Text;
using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;
using MiniVmm.Wayland.Tests.Support;
using static MiniVmm.Gpu.Tests.CrossDomain.ChannelTestSupport;

namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>
/// A channel against a real Weston 10 (headless): the test plays the guest proxy, encoding requests with the
/// generated senders and passing fds only as cross-domain identifiers, the way SEND carries them.
/// </summary>
[Collection("Weston")]
public sealed class CrossDomainWestonTests
{
    private const uint Display = 1, Registry = 2;

    [Fact]
    public void RegistryAndSyncRoundTrip()
    {
        using var weston = WestonCompositor.Start();
        using var resources = new FakeCrossDomainResources();
        using var channel = Connect(weston, resources);
        var globals = GetGlobals(channel, callback: 3);
        Assert.Contains("wl_compositor", globals.Keys);
        Assert.Contains("wl_shm", globals.Keys);
        Assert.Contains("xdg_wm_base", globals.Keys);
    }

    [Fact]
    public void AShmPoolFromAGuestBlobReachesWeston()
    {
        using var weston = WestonCompositor.Start();
        using var resources = new FakeCrossDomainResources();
        using var channel = Connect(weston, resources);
        var globals = GetGlobals(channel, callback: 3);
        const int Width = 64, Height = 64, Stride = Width * 4, Size = Stride * Height;
        var blob = resources.AddBlob(9, Size);
        using var writer = new WireWriter();
        WlRegistry.Bind(writer, Registry, globals["wl_shm"], WlShm.Name, 1, 4);
        WlShm.CreatePool(writer, 4, 5, blob, Size);
        WlShmPool.CreateBuffer(writer, 5, 6, 0, Width, Height, Stride, WlShm.Format.Argb8888);
        WlDisplay.Sync(writer, Display, 7);
        // The fd travels as identifier (9, VIRTGPU_BLOB), not in the writer: drop the writer's copy.
        var bytes = writer.Written.ToArray();
        writer.Clear();
        Assert.Equal(CrossDomainChannelError.None, channel.Send(bytes, [(9u, (uint)CrossDomainIdType.VirtgpuBlob)]));

        var (messages, _, hangUp) = ReceiveUntil(channel, m => m.Exists(x => x.Object == 7));
        Assert.False(hangUp, "Weston closed the connection\n" + weston.Log);
        Assert.DoesNotContain(messages, m => m.Object == Display && m.Opcode == WlDisplay.Events.Error);
    }

    [Fact]
    public void WithoutTheFdWestonRefusesThePool()
    {
        // The control for the test above: the same create_pool with no identifier must not be accepted.
        using var weston = WestonCompositor.Start();
        using var resources = new FakeCrossDomainResources();
        using var channel = Connect(weston, resources);
        var globals = GetGlobals(channel, callback: 3);
        var blob = resources.AddBlob(9, 4096);
        using var writer = new WireWriter();
        WlRegistry.Bind(writer, Registry, globals["wl_shm"], WlShm.Name, 1, 4);
        WlShm.CreatePool(writer, 4, 5, blob, 4096);
        WlDisplay.Sync(writer, Display, 7);
        var bytes = writer.Written.ToArray();
        writer.Clear();
        Assert.Equal(CrossDomainChannelError.None, channel.Send(bytes, default));
        var (messages, _, hangUp) = ReceiveUntil(channel, m => m.Exists(x => x.Object == 7 || (x.Object == Display && x.Opcode == WlDisplay.Events.Error)));
        Assert.True(hangUp || messages.Exists(m => m.Object == Display && m.Opcode == WlDisplay.Events.Error));
    }

    [Fact]
    public void WestonKilledMidSessionIsAHangUp()
    {
        using var weston = WestonCompositor.Start();
        using var resources = new FakeCrossDomainResources();
        using var channel = Connect(weston, resources);
        GetGlobals(channel, callback: 3);
        weston.Kill();
        var (_, _, hangUp) = ReceiveUntil(channel, _ => false);
        Assert.True(hangUp);
        Assert.Equal(CrossDomainChannelError.HungUp, channel.Send("abcdefgh"u8, default));
        var ring = new byte[CrossDomainConstants.RingSize];
        Assert.Equal(CrossDomainRingError.None, CrossDomainRingWriter.WriteHangUp(ring));
    }

    private static CrossDomainChannel Connect(WestonCompositor weston, FakeCrossDomainResources resources) =>
        CrossDomainChannel.TryConnect(weston.SocketPath, resources.Interface, out var error)
            ?? throw new InvalidOperationException(error);

    /// <summary>get_registry + sync; returns interface name → global name once wl_callback.done arrives.</summary>
    private static Dictionary<string, uint> GetGlobals(CrossDomainChannel channel, uint callback)
    {
        using var writer = new WireWriter();
        WlDisplay.GetRegistry(writer, Display, Registry);
        WlDisplay.Sync(writer, Display, callback);
        Assert.Equal(CrossDomainChannelError.None, channel.Send(writer.Written, default));
        var (messages, identifiers, hangUp) = ReceiveUntil(channel, m => m.Exists(x => x.Object == callback && x.Opcode == WlCallback.Events.Done));
        Assert.False(hangUp);
        Assert.Empty(identifiers);
        var globals = new Dictionary<string, uint>();
        foreach (var (_, _, body) in messages.Where(m => m.Object == Registry && m.Opcode == WlRegistry.Events.Global))
        {
            var name = BinaryPrimitives.ReadUInt32LittleEndian(body);
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(4));
            globals[Encoding.UTF8.GetString(body, 8, length - 1)] = name;
        }
        return globals;
    }
}
