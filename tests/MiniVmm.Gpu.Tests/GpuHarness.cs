using MiniVmm.Gpu.Backend;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Memory;
using MiniVmm.TestSupport;
using MiniVmm.Virtio;

namespace MiniVmm.Gpu.Tests;

/// <summary>How a request is laid out in descriptors.</summary>
public enum Layout
{
    /// <summary>What Linux does without INDIRECT_DESC: the command struct in one readable descriptor, extra data
    /// (mem entries) in a second, the response in one writable descriptor.</summary>
    Linux,
    /// <summary>Header and body in separate readable descriptors.</summary>
    SplitHeader,
    /// <summary>Every request byte in a descriptor of its own (gathering across many buffers).</summary>
    BytePerDescriptor,
    /// <summary>The Linux layout inside one indirect table (Linux with INDIRECT_DESC).</summary>
    Indirect,
}

/// <summary>The used element and the response bytes the device wrote.</summary>
internal sealed record Reply(uint UsedLength, byte[] Response)
{
    public VirtioGpuCtrlHdr Header => MemoryMarshal.Read<VirtioGpuCtrlHdr>(Response);
    public VirtioGpuCtrlType Type => (VirtioGpuCtrlType)Header.Type;

    public T As<T>() where T : unmanaged => MemoryMarshal.Read<T>(Response);
}

/// <summary>
/// A guest virtio_gpu driver in a box: 16 MiB of guest RAM, controlq and cursorq laid out by
/// <see cref="MockSplitQueue"/>, the device activated with a fake interrupt and a fake sink. Requests are
/// written into guest memory the way Linux's driver does and the device is kicked with QueueNotify.
/// </summary>
internal sealed partial class GpuHarness : IDisposable
{
    public const ulong MemorySize = 16 << 20;
    public const ulong PagesStart = 8 << 20; // guest "pages" for resource backing live above this
    private ulong _nextPage = PagesStart;

    /// <param name="ramSplit">When set, RAM is two adjacent regions meeting there (above the queues), as KVM slots may be.</param>
    public GpuHarness(GpuOptions? options = null, bool eventIndex = false, bool traced = true, IScanoutSink? sink = null,
        IHostVisibleRegion? region = null, ulong? ramSplit = null)
    {
        Memory = ramSplit is { } split
            ? GuestMemory.Create([(new GuestAddress(0), split), (new GuestAddress(split), MemorySize - split)])
            : GuestMemory.CreateFlat(MemorySize);
        Control = new MockSplitQueue(Memory, 256, 0x1000, 6 << 20, eventIndex);
        Cursor = new MockSplitQueue(Memory, 16, 6 << 20, PagesStart, eventIndex);
        Device = new VirtioGpuDevice(options ?? new GpuOptions(), sink ?? Sink, traced ? Trace.Add : null, region);
        ulong features = Device.DeviceFeatures | (1UL << 32) | (eventIndex ? 1UL << 29 : 0);
        Device.Activate(new VirtioActivation(features, [Control.CreateQueue(), Cursor.CreateQueue()], Interrupt));
    }

    public GuestMemory Memory { get; }
    public MockSplitQueue Control { get; }
    public MockSplitQueue Cursor { get; }
    public VirtioGpuDevice Device { get; }
    public FakeVirtioInterrupt Interrupt { get; } = new();
    public FakeScanoutSink Sink { get; } = new();
    public List<string> Trace { get; } = [];

    public void Dispose() => Memory.Dispose();

    /// <summary>Guest memory for backing pages (page aligned), zeroed.</summary>
    public GuestAddress AllocatePages(ulong length)
    {
        ulong start = _nextPage;
        ulong end = (start + length + 4095) & ~4095UL;
        if (end > MemorySize)
            throw new InvalidOperationException("harness guest pages exhausted");
        _nextPage = end;
        Memory.Write(new GuestAddress(start), new byte[end - start]);
        return new GuestAddress(start);
    }

    public static VirtioGpuCtrlHdr Hdr(VirtioGpuCtrlType type, ulong? fence = null, uint ctxId = 0, byte? ringIdx = null)
    {
        var hdr = new VirtioGpuCtrlHdr { Type = (uint)type, CtxId = ctxId };
        if (fence is { } id)
        {
            hdr.Flags = VirtioGpuConstants.VIRTIO_GPU_FLAG_FENCE;
            hdr.FenceId = id;
        }
        if (ringIdx is { } ring)
        {
            hdr.Flags |= VirtioGpuConstants.VIRTIO_GPU_FLAG_INFO_RING_IDX;
            hdr.RingIdx = ring;
        }
        return hdr;
    }

    public static byte[] Bytes<T>(in T value) where T : unmanaged =>
        MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)).ToArray();

    /// <summary>Sends a command on the control queue; <paramref name="responseSize"/> 0 means no response buffer.</summary>
    public Reply Submit<T>(in T command, int responseSize = 24, byte[]? extra = null, Layout layout = Layout.Linux)
        where T : unmanaged =>
        SubmitBytes(Bytes(in command), responseSize, extra, layout);

    public Reply SubmitCursor<T>(in T command, int responseSize = 0) where T : unmanaged
    {
        var buffers = new List<MockBuffer> { MockBuffer.Readable(Bytes(in command)) };
        if (responseSize > 0)
            buffers.Add(MockBuffer.WritableSpace((uint)responseSize));
        var chain = Cursor.AddChain([.. buffers]);
        return Kick(Cursor, VirtioGpuConstants.CursorQueue, chain, responseSize);
    }

    public Reply SubmitBytes(byte[] request, int responseSize = 24, byte[]? extra = null, Layout layout = Layout.Linux) =>
        Kick(Control, VirtioGpuConstants.ControlQueue, QueueBytes(request, responseSize, extra, layout), responseSize);

    /// <summary>
    /// Lays a control request out in descriptors and publishes it, without notifying the device. A direct chain
    /// whose head <paramref name="headInUse"/> names (a chain the device still holds) is written again further on.
    /// </summary>
    public MockChain QueueBytes(byte[] request, int responseSize = 24, byte[]? extra = null, Layout layout = Layout.Linux,
        Func<ushort, bool>? headInUse = null)
    {
        var buffers = new List<MockBuffer>();
        switch (layout)
        {
            case Layout.SplitHeader when request.Length > 24:
                buffers.Add(MockBuffer.Readable(request.AsSpan(0, 24)));
                buffers.Add(MockBuffer.Readable(request.AsSpan(24)));
                break;
            case Layout.BytePerDescriptor:
                foreach (byte b in request)
                    buffers.Add(MockBuffer.Readable([b]));
                break;
            default:
                buffers.Add(MockBuffer.Readable(request));
                break;
        }
        if (extra is { Length: > 0 })
            buffers.Add(MockBuffer.Readable(extra));
        if (responseSize > 0)
            buffers.Add(MockBuffer.WritableSpace((uint)responseSize));
        if (layout == Layout.Indirect)
            return Control.AddIndirectChain([.. buffers]);
        var chain = Control.WriteChain([.. buffers]);
        while (headInUse?.Invoke(chain.Head) == true)
            chain = Control.WriteChain([.. buffers]);
        Control.Publish(chain.Head);
        return chain;
    }

    /// <summary>Notifies the device and returns the used element for <paramref name="chain"/>.</summary>
    public Reply Kick(MockSplitQueue queue, int queueIndex, MockChain chain, int responseSize)
    {
        Device.QueueNotify(queueIndex);
        var used = Assert.Single(queue.TakeUsed());
        Assert.Equal(chain.Head, (ushort)used.Id);
        var response = responseSize > 0 ? queue.ReadBytes(chain.BufferAddresses[^1], responseSize) : [];
        return new Reply(used.Len, response);
    }

    public static int SizeOf<T>() where T : unmanaged => Unsafe.SizeOf<T>();
}
