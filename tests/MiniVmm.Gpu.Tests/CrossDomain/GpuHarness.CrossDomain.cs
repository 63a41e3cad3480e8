using System.Diagnostics;
using System.Runtime.InteropServices;
using MiniVmm.Gpu.Tests.CrossDomain;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Memory;
using MiniVmm.TestSupport;

namespace MiniVmm.Gpu.Tests;

/// <summary>The guest proxy's side of a cross-domain context: rings, command encoding, fenced POLLs.</summary>
internal sealed partial class GpuHarness
{
    private readonly Dictionary<uint, (ulong Addr, uint Length)[]> _rings = [];

    /// <summary>
    /// A 4 KiB GUEST ring blob in two 2 KiB mem entries that are not adjacent in guest memory, so every message
    /// longer than 2 KiB crosses an entry; created with ctx_id 0 and attached the way Linux attaches it.
    /// </summary>
    public void CreateRing(uint id, uint ctxId)
    {
        var first = AllocatePages(4096);
        AllocatePages(4096); // a gap
        var second = AllocatePages(4096);
        var entries = new[] { (first.Value, 2048u), (second.Value, 2048u) };
        Assert.Equal(VirtioGpuCtrlType.RESP_OK_NODATA, CreateGuestBlob(id, 4096, entries).Type);
        Assert.Equal(VirtioGpuCtrlType.RESP_OK_NODATA, CtxResource(VirtioGpuCtrlType.CMD_CTX_ATTACH_RESOURCE, ctxId, id).Type);
        _rings[id] = entries;
    }

    public byte[] ReadRing(uint id)
    {
        var bytes = new List<byte>();
        foreach (var (addr, length) in _rings[id])
        {
            var part = new byte[length];
            Memory.Read(new GuestAddress(addr), part);
            bytes.AddRange(part);
        }
        return [.. bytes];
    }

    public Reply Submit3D(uint ctxId, byte[] stream, ulong? fence = null, byte? ring = null) =>
        Submit(new VirtioGpuCmdSubmit { Hdr = Hdr(VirtioGpuCtrlType.CMD_SUBMIT_3D, fence, ctxId, ring), Size = (uint)stream.Length }, extra: stream);

    /// <summary>Queues a SUBMIT_3D and kicks, without expecting the used entry yet (a POLL's fence waits).</summary>
    public MockChain StartSubmit3D(uint ctxId, byte[] stream, ulong? fence, byte? ring)
    {
        var command = Bytes(new VirtioGpuCmdSubmit { Hdr = Hdr(VirtioGpuCtrlType.CMD_SUBMIT_3D, fence, ctxId, ring), Size = (uint)stream.Length });
        var chain = Control.AddChain(MockBuffer.Readable(command), MockBuffer.Readable(stream), MockBuffer.WritableSpace(24));
        Device.QueueNotify(VirtioGpuConstants.ControlQueue);
        return chain;
    }

    /// <summary>Queues a command and kicks, for when other chains come back with it (CTX_DESTROY returns waiting POLLs).</summary>
    public MockChain Start<T>(in T command) where T : unmanaged
    {
        var chain = Control.AddChain(MockBuffer.Readable(Bytes(in command)), MockBuffer.WritableSpace(24));
        Device.QueueNotify(VirtioGpuConstants.ControlQueue);
        return chain;
    }

    /// <summary>Waits (bounded) for the used entries of <paramref name="chains"/>; returns their response headers in used order.</summary>
    public List<VirtioGpuCtrlHdr> WaitUsed(TimeSpan timeout, params MockChain[] chains)
    {
        var clock = Stopwatch.StartNew();
        var done = new List<VirtioGpuCtrlHdr>();
        var byHead = chains.ToDictionary(c => c.Head);
        while (done.Count < chains.Length)
        {
            foreach (var used in Control.TakeUsed())
            {
                Assert.True(byHead.TryGetValue((ushort)used.Id, out var chain), $"unexpected used head {used.Id}");
                done.Add(MemoryMarshal.Read<VirtioGpuCtrlHdr>(Control.ReadBytes(chain.BufferAddresses[^1], 24)));
            }
            if (done.Count < chains.Length && clock.Elapsed > timeout)
                throw new TimeoutException($"{done.Count} of {chains.Length} chains came back");
            Thread.Sleep(2);
        }
        return done;
    }

    // Guest commands and host messages go through UpstreamCrossDomainWire (upstream's layouts by byte offset), never
    // through the product's own encoder, so the device is held to upstream's layout rather than to itself.

    public static byte[] XdInit(uint queryRing, uint channelRing, uint channelType = CrossDomainConstants.ChannelTypeWayland) =>
        UpstreamCrossDomainWire.Init(queryRing, channelRing, channelType);

    public static byte[] XdPoll() => UpstreamCrossDomainWire.Poll();

    public static byte[] XdImageRequirements(uint width, uint height, uint drmFormat = 0x34325241) =>
        UpstreamCrossDomainWire.GetImageRequirements(width, height, drmFormat);

    /// <summary>A SEND as a guest would build it, hostile ones included (more than 28 identifiers, any types).</summary>
    public static byte[] XdSend(ReadOnlySpan<byte> data, params (uint Id, uint Type)[] identifiers) =>
        UpstreamCrossDomainWire.Send(data, [.. identifiers.Select(id => (id.Id, id.Type, 0u))]);

    public static byte[] XdWrite(uint pipeId, ReadOnlySpan<byte> data, bool hangUp) => UpstreamCrossDomainWire.Write(pipeId, data, hangUp);

    /// <summary>
    /// A HOST3D blob of <paramref name="size"/> bytes (a page multiple) made the way crosvm insists on: a
    /// GET_IMAGE_REQUIREMENTS for an R8 image 4096 bytes wide on the INITed context, then CREATE_BLOB with the
    /// blob_id and size it answered.
    /// </summary>
    public Reply CreateQueriedHostBlob(uint id, ulong size, uint ctxId, uint queryRing)
    {
        Assert.Equal(VirtioGpuCtrlType.RESP_OK_NODATA, Submit3D(ctxId, XdImageRequirements(4096, (uint)(size / 4096), UpstreamCrossDomainWire.Fourcc("R8  "))).Type);
        var answer = UpstreamCrossDomainWire.ParseImageRequirements(ReadRing(queryRing));
        Assert.Equal(size, answer.Size);
        return CreateHostBlob(id, size, ctxId, blobId: answer.BlobId);
    }

    /// <summary>The RECEIVE at the start of a channel ring: its identifiers and its Wayland bytes.</summary>
    public static (List<(uint Id, uint Type, uint Size)> Ids, byte[] Data) ParseReceive(byte[] ring) => UpstreamCrossDomainWire.ParseReceive(ring);
}
