using System.Runtime.InteropServices;
using MiniVmm.CrossDomain;
using MiniVmm.Gpu;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Memory;
using MiniVmm.TestSupport;
using MiniVmm.Virtio;

namespace MiniVmm.Bench;

/// <summary>
/// Plays the guest proxy (sommelier / wayland-proxy-virtwl) over a real <see cref="VirtioGpuDevice"/>, as
/// tests/MiniVmm.Gpu.Tests' GpuHarness.CrossDomain does (that one asserts with xUnit, so it is not shared): a
/// cross-domain context on a Weston socket, query and channel rings as GUEST blobs, SEND as SUBMIT_3D, and one fenced
/// POLL (ring 1) always outstanding, as the proxies keep one. Requests sit in fixed guest buffers (no bump
/// allocation), so it can run for any number of rounds. The driver is woken by the device's queue interrupt.
/// </summary>
internal sealed class CrossDomainGuest : IDisposable
{
    private const ulong MemorySize = 16 << 20;
    private const ulong RingBase = 0x1000;
    private const ulong SetupEnd = 1 << 20; // the bump allocator, for setup commands only
    private const ulong SendCmd = 0x100000, SendStream = 0x101000, SendResp = 0x103000;
    private const ulong PollCmd = 0x104000, PollStream = 0x105000, PollResp = 0x106000;
    private const ulong QueryRing = 0x200000, ChannelRing = 0x201000;
    private const uint QueryRingId = 100, ChannelRingId = 101, CtxId = 1;
    private readonly WakeInterrupt _interrupt = new();
    private readonly HashSet<ushort> _used = [];
    private ushort? _pollHead;
    // The POLL's used entry, recorded the moment it is taken: the queue frees its descriptors then, so a later
    // chain may get the same head index, and a set of heads alone would mistake one completion for the other.
    private bool _pollDone;
    private ulong _fence;

    public CrossDomainGuest(string waylandSocket, ulong hostMemory)
    {
        Region = new GuestViewRegion(hostMemory);
        Memory = GuestMemory.CreateFlat(MemorySize);
        Control = new MockSplitQueue(Memory, 256, RingBase, SetupEnd);
        var options = new GpuOptions { Blob = true, Contexts = true, HostMemoryBytes = hostMemory, WaylandSockets = CompositorSockets.Only(waylandSocket), CrossDomainTrace = Environment.GetEnvironmentVariable("BENCH_TRACE") is null ? null : Console.Error.WriteLine };
        Device = new VirtioGpuDevice(options, sink: null, tracer: Environment.GetEnvironmentVariable("BENCH_TRACE") is null ? null : Console.Error.WriteLine, region: Region);
        Device.Activate(new VirtioActivation(Device.DeviceFeatures | (1UL << 32), [Control.CreateQueue()], _interrupt));

        var create = new VirtioGpuCtxCreate { Hdr = Hdr(VirtioGpuCtrlType.CMD_CTX_CREATE, ctxId: CtxId), Nlen = 5, ContextInit = VirtioGpuConstants.VIRTIO_GPU_CAPSET_CROSS_DOMAIN };
        "bench"u8.CopyTo(create.DebugName);
        Run(create, "CTX_CREATE");
        foreach (var (id, addr) in new[] { (QueryRingId, QueryRing), (ChannelRingId, ChannelRing) })
        {
            var entry = new VirtioGpuMemEntry { Addr = addr, Length = CrossDomainConstants.RingSize };
            Run(new VirtioGpuResourceCreateBlob
            {
                Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_CREATE_BLOB),
                ResourceId = id,
                BlobMem = VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_GUEST,
                BlobFlags = VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE,
                NrEntries = 1,
                Size = CrossDomainConstants.RingSize,
            }, "CREATE_BLOB(GUEST ring)", Bytes(entry));
            Run(new VirtioGpuCtxResource { Hdr = Hdr(VirtioGpuCtrlType.CMD_CTX_ATTACH_RESOURCE, ctxId: CtxId), ResourceId = id }, "CTX_ATTACH_RESOURCE");
        }
        Submit(CrossDomainCommands.Init(QueryRingId, ChannelRingId, CrossDomainConstants.ChannelTypeWayland), "INIT");
        StartPoll();
    }

    public GuestMemory Memory { get; }
    public MockSplitQueue Control { get; }
    public VirtioGpuDevice Device { get; }
    public GuestViewRegion Region { get; }

    /// <summary>Bytes the device copied for us: SEND opaque data (guest memory to socket) and RECEIVE messages
    /// (socket to channel ring, struct included). Counted here, from the commands' own sizes.</summary>
    public long SendBytes { get; private set; }
    public long ReceiveBytes { get; private set; }

    /// <summary>CREATE_BLOB(HOST3D, mappable|shareable) of <paramref name="size"/> bytes, MAP_BLOB at offset 0: the
    /// guest's mapping of the blob (here the bench maps the same memfd, as KVM maps it into the guest).</summary>
    public MappedMemfd CreateMappedHostBlob(uint resourceId, ulong size)
    {
        // The device holds guests to crosvm's rule: a HOST3D blob names a GET_IMAGE_REQUIREMENTS answer with its exact
        // size. An R8 image 4096 bytes wide and size/4096 rows is exactly size bytes (size is a page multiple).
        var query = new CrossDomainGetImageRequirements
        {
            Hdr = CrossDomainCommands.Header(CrossDomainCmd.GetImageRequirements, CrossDomainGetImageRequirements.Size),
            Width = 4096,
            Height = (uint)(size / 4096),
            DrmFormat = 0x20203852, // DRM_FORMAT_R8
        };
        Submit(MemoryMarshal.AsBytes(new ReadOnlySpan<CrossDomainGetImageRequirements>(in query)).ToArray(), "GET_IMAGE_REQUIREMENTS");
        var answer = new byte[CrossDomainImageRequirements.Size];
        Memory.Read(new GuestAddress(QueryRing), answer);
        var requirements = MemoryMarshal.Read<CrossDomainImageRequirements>(answer);
        if (requirements.SizeBytes != size)
            throw new InvalidOperationException($"GET_IMAGE_REQUIREMENTS answered {requirements.SizeBytes} bytes for a {size}-byte blob");
        Run(new VirtioGpuResourceCreateBlob
        {
            Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_CREATE_BLOB, ctxId: CtxId),
            ResourceId = resourceId,
            BlobMem = VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_HOST3D,
            BlobFlags = VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE | VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE,
            BlobId = requirements.BlobId,
            Size = size,
        }, "CREATE_BLOB(HOST3D)");
        Run(new VirtioGpuResourceMapBlob { Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_MAP_BLOB), ResourceId = resourceId, Offset = 0 }, "MAP_BLOB", responseSize: 32);
        return Region.Take(0);
    }

    /// <summary>One SEND (at most <see cref="CrossDomainConstants.MaxSendReceiveData"/> bytes) with optional blob identifiers.</summary>
    public void Send(ReadOnlySpan<byte> data, params uint[] blobResources)
    {
        if (data.Length > CrossDomainConstants.MaxSendReceiveData)
            throw new ArgumentException("SEND too large");
        var stream = CrossDomainCommands.Send(data, [.. blobResources.Select(id => new CrossDomainIdentifier(id, (uint)CrossDomainIdType.VirtgpuBlob, 0))]);
        Memory.Write(new GuestAddress(SendStream), stream);
        var head = PostSubmit(SendCmd, SendStream, (uint)stream.Length, SendResp, fence: null);
        Kick();
        WaitHead(head, "SEND");
        ExpectOk(SendResp, "SEND");
        SendBytes += data.Length;
    }

    /// <summary>Waits for the outstanding POLL's fence, copies the RECEIVE's Wayland bytes to <paramref name="into"/>,
    /// and posts the next POLL before returning (so one is always outstanding).</summary>
    public int Receive(Span<byte> into)
    {
        WaitHead(null, "POLL");
        var ring = new byte[CrossDomainSendReceive.Size];
        Memory.Read(new GuestAddress(ChannelRing), ring);
        var message = MemoryMarshal.Read<CrossDomainSendReceive>(ring);
        if (message.Hdr.Cmd != (byte)CrossDomainCmd.Receive)
            throw new InvalidOperationException($"channel ring holds cmd {message.Hdr.Cmd}, not RECEIVE");
        int length = (int)message.OpaqueDataSize;
        if (length == 0)
            throw new InvalidOperationException("the compositor hung up (empty RECEIVE)");
        if (message.NumIdentifiers != 0)
            throw new InvalidOperationException("a RECEIVE with identifiers (not expected here)");
        Memory.Read(new GuestAddress(ChannelRing + CrossDomainSendReceive.Size), into[..length]);
        ReceiveBytes += CrossDomainSendReceive.Size + length;
        StartPoll();
        return length;
    }

    private void StartPoll()
    {
        Memory.Write(new GuestAddress(PollStream), CrossDomainCommands.Poll());
        _pollDone = false;
        _pollHead = PostSubmit(PollCmd, PollStream, CrossDomainPoll.Size, PollResp, fence: ++_fence);
        Kick();
    }

    private ushort PostSubmit(ulong cmd, ulong stream, uint size, ulong resp, ulong? fence)
    {
        var hdr = Hdr(VirtioGpuCtrlType.CMD_SUBMIT_3D, ctxId: CtxId);
        if (fence is { } id)
        {
            hdr.Flags = VirtioGpuConstants.VIRTIO_GPU_FLAG_FENCE | VirtioGpuConstants.VIRTIO_GPU_FLAG_INFO_RING_IDX;
            hdr.FenceId = id;
            hdr.RingIdx = (byte)CrossDomainConstants.ChannelRing;
        }
        var submit = new VirtioGpuCmdSubmit { Hdr = hdr, Size = size };
        Memory.Write(new GuestAddress(cmd), Bytes(submit));
        var chain = Control.AddChain(
            MockBuffer.Raw(cmd, (uint)Marshal.SizeOf<VirtioGpuCmdSubmit>(), false),
            MockBuffer.Raw(stream, size, false),
            MockBuffer.Raw(resp, 24, true));
        return chain.Head;
    }

    private void Kick() => Device.QueueNotify(VirtioGpuConstants.ControlQueue);

    /// <summary>Takes used entries (woken by the queue interrupt) until <paramref name="head"/> (null: the outstanding POLL) is among them.</summary>
    private void WaitHead(ushort? head, string what)
    {
        var deadline = Environment.TickCount64 + 10_000;
        while (true)
        {
            _interrupt.Wake.Reset();
            foreach (var used in Control.TakeUsed())
            {
                if (!_pollDone && used.Id == _pollHead)
                    _pollDone = true;
                else
                    _used.Add((ushort)used.Id);
            }
            if (head is null ? _pollDone : _used.Remove(head.Value))
                return;
            if (Environment.TickCount64 > deadline)
                throw new TimeoutException($"{what}: no used entry in 10 s");
            _interrupt.Wake.Wait(100);
        }
    }

    private void ExpectOk(ulong resp, string what)
    {
        var type = (VirtioGpuCtrlType)Memory.Read<uint>(new GuestAddress(resp));
        if (type != VirtioGpuCtrlType.RESP_OK_NODATA)
            throw new InvalidOperationException($"{what}: the device answered {type}");
    }

    private void Submit(byte[] stream, string what)
    {
        Memory.Write(new GuestAddress(SendStream), stream);
        var head = PostSubmit(SendCmd, SendStream, (uint)stream.Length, SendResp, fence: null);
        Kick();
        WaitHead(head, what);
        ExpectOk(SendResp, what);
    }

    private void Run<T>(in T command, string what, byte[]? extra = null, int responseSize = 24) where T : unmanaged
    {
        var buffers = new List<MockBuffer> { MockBuffer.Readable(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in command))) };
        if (extra is { Length: > 0 })
            buffers.Add(MockBuffer.Readable(extra));
        buffers.Add(MockBuffer.WritableSpace((uint)responseSize));
        var chain = Control.AddChain([.. buffers]);
        Kick();
        WaitHead(chain.Head, what);
        var type = (VirtioGpuCtrlType)Memory.Read<uint>(chain.BufferAddresses[^1]);
        if (type is not (VirtioGpuCtrlType.RESP_OK_NODATA or VirtioGpuCtrlType.RESP_OK_MAP_INFO))
            throw new InvalidOperationException($"{what}: the device answered {type}");
    }

    private static VirtioGpuCtrlHdr Hdr(VirtioGpuCtrlType type, uint ctxId = 0) => new() { Type = (uint)type, CtxId = ctxId };

    private static byte[] Bytes<T>(in T value) where T : unmanaged => MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)).ToArray();

    public void Dispose()
    {
        Device.Reset();
        Region.Dispose();
        Memory.Dispose();
    }

    private sealed class WakeInterrupt : IVirtioInterrupt
    {
        public ManualResetEventSlim Wake { get; } = new(false, spinCount: 0);
        public void SignalQueue(int queueIndex) => Wake.Set();
        public void SignalConfigChange() { }
        public void SignalNeedsReset(string reason) => Wake.Set();
    }
}

/// <summary>The guest's side of the host-visible region: what the device maps there, the bench maps too (KVM would
/// put the same memfd pages into a memory slot, so guest stores land in the blob with no copy).</summary>
internal sealed class GuestViewRegion(ulong size) : IHostVisibleRegion, IDisposable
{
    private readonly Dictionary<ulong, MappedMemfd> _maps = [];

    public ulong Size { get; } = size;

    public bool TryMap(ulong offset, ulong size, SafeHandle memfd, out string? error)
    {
        error = null;
        _maps.Add(offset, MappedFd.MapDup(memfd, size));
        return true;
    }

    public void Unmap(ulong offset)
    {
        if (_maps.Remove(offset, out var map))
            map.Dispose();
    }

    /// <summary>The mapping at <paramref name="offset"/>; the caller now owns it.</summary>
    public MappedMemfd Take(ulong offset)
    {
        if (!_maps.Remove(offset, out var map))
            throw new InvalidOperationException($"nothing mapped at 0x{offset:x}");
        return map;
    }

    public void Dispose()
    {
        foreach (var map in _maps.Values)
            map.Dispose();
        _maps.Clear();
    }
}
