using System.Buffers.Binary;
using System.Text;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Sys;
using MiniVmm.Virtio;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;
using MiniVmm.Wayland.Tests.Support;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Winsrv;

/// <summary>
/// The winsrv queues against a real Weston 10 (headless) with the device's event loop: the test plays the guest
/// proxy, writing Wayland requests into TX and reading the compositor's events out of posted RX buffers.
/// </summary>
[Collection("Winsrv")]
public sealed class WinsrvWestonTests
{
    private const uint Display = 1, Registry = 2, Id = 7;

    [Fact]
    public void RegistryAndSyncRoundTripThroughTheQueues()
    {
        using var weston = WestonCompositor.Start();
        using var loop = Started();
        using var harness = new WinsrvHarness(weston.SocketPath, loop: loop);
        Assert.Equal(RESP_OK_NODATA, harness.Connect(Id));
        harness.PostRx(16);
        var globals = GetGlobals(harness, callback: 3);
        Assert.Contains("wl_compositor", globals.Keys);
        Assert.Contains("wl_shm", globals.Keys);
        Assert.Contains("xdg_wm_base", globals.Keys);
        Assert.Null(loop.Failure);
    }

    [Fact]
    public void AShmPoolFromAHostBlobReachesWeston()
    {
        using var weston = WestonCompositor.Start();
        using var loop = Started();
        using var harness = new WinsrvHarness(weston.SocketPath, new GpuOptions { Edid = false, Winsrv = true, Blob = true, Contexts = true }, loop: loop);
        var context = new VirtioGpuCtxCreate { Hdr = { Type = (uint)CMD_CTX_CREATE, CtxId = 1 } };
        Assert.Equal(RESP_OK_NODATA, harness.SubmitControl(context));
        const int Width = 64, Height = 64, Stride = Width * 4, Size = Stride * Height;
        var blob = new VirtioGpuResourceCreateBlob
        {
            Hdr = { Type = (uint)CMD_RESOURCE_CREATE_BLOB, CtxId = 1 },
            ResourceId = 9,
            BlobMem = VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_HOST3D,
            BlobFlags = VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE,
            BlobId = 1,
            Size = Size,
        };
        Assert.Equal(RESP_OK_NODATA, harness.SubmitControl(blob));
        Assert.Equal(RESP_OK_NODATA, harness.Connect(Id));
        harness.PostRx(16);
        var globals = GetGlobals(harness, callback: 3);

        using var placeholder = File.OpenHandle("/dev/null");
        using var writer = new WireWriter();
        WlRegistry.Bind(writer, Registry, globals["wl_shm"], WlShm.Name, 1, 4);
        WlShm.CreatePool(writer, 4, 5, placeholder, Size);
        WlShmPool.CreateBuffer(writer, 5, 6, 0, Width, Height, Stride, WlShm.Format.Argb8888);
        WlDisplay.Sync(writer, Display, 7);
        // The fd travels as resource id 9 in the TX header, not in the writer: drop the writer's copy.
        var bytes = writer.Written.ToArray();
        writer.Clear();
        Assert.Equal(RESP_OK_NODATA, harness.Send(Id, bytes, [9]));
        var messages = Messages(harness.WaitRx(rx => rx.Exists(r => r.Header.Len == 0) || Messages(rx).Exists(m => m.Object == 7)));
        Assert.DoesNotContain(messages, m => m.Object == Display && m.Opcode == WlDisplay.Events.Error);
        Assert.Contains(messages, m => m.Object == 7);
    }

    [Fact]
    public void WestonKilledIsAnEmptyRx()
    {
        using var weston = WestonCompositor.Start();
        using var loop = Started();
        using var harness = new WinsrvHarness(weston.SocketPath, loop: loop);
        Assert.Equal(RESP_OK_NODATA, harness.Connect(Id));
        harness.PostRx(16);
        GetGlobals(harness, callback: 3);
        weston.Kill();
        var hangUp = harness.WaitRx(rx => rx.Exists(r => r.Header.Len == 0));
        Assert.Equal(Id, hangUp[^1].Header.Fd);
        Assert.Equal(RESP_ERR_UNSPEC, harness.Send(Id, "abcdefgh"u8));
        Assert.Equal(RESP_OK_NODATA, harness.Disconnect(Id));
        Assert.Null(loop.Failure);
    }

    private static EventLoop Started()
    {
        var loop = new EventLoop("winsrv-weston");
        loop.Start();
        return loop;
    }

    /// <summary>get_registry + sync over TX; interface name → global name once wl_callback.done arrives over RX.</summary>
    private static Dictionary<string, uint> GetGlobals(WinsrvHarness harness, uint callback)
    {
        using var writer = new WireWriter();
        WlDisplay.GetRegistry(writer, Display, Registry);
        WlDisplay.Sync(writer, Display, callback);
        Assert.Equal(RESP_OK_NODATA, harness.Send(Id, writer.Written));
        var rx = harness.WaitRx(r => Messages(r).Exists(m => m.Object == callback && m.Opcode == WlCallback.Events.Done));
        Assert.All(rx, r => Assert.Equal(Id, r.Header.Fd));
        Assert.All(rx, r => Assert.Empty(r.ResourceIds));
        var globals = new Dictionary<string, uint>();
        foreach (var (_, _, body) in Messages(rx).Where(m => m.Object == Registry && m.Opcode == WlRegistry.Events.Global))
        {
            var name = BinaryPrimitives.ReadUInt32LittleEndian(body);
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(4));
            globals[Encoding.UTF8.GetString(body, 8, length - 1)] = name;
        }
        return globals;
    }

    /// <summary>The Wayland messages in the RX stream so far (a message may straddle two RX buffers).</summary>
    private static List<(uint Object, ushort Opcode, byte[] Body)> Messages(List<WinsrvRx> rx)
    {
        var bytes = rx.SelectMany(r => r.Data).ToArray();
        var messages = new List<(uint, ushort, byte[])>();
        var offset = 0;
        while (WireMessage.TryParse(bytes.AsSpan(offset), out var message, out _))
        {
            messages.Add((message.ObjectId, message.Opcode, message.Body.ToArray()));
            offset += message.Size;
        }
        return messages;
    }
}
