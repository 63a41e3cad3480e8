using System.Runtime.InteropServices;
using MiniVmm.Gpu;
using MiniVmm.Gpu.Backend;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Memory;
using MiniVmm.TestSupport;
using MiniVmm.Virtio;

namespace MiniVmm.Bench;

/// <summary>
/// Plays the guest's virtio_gpu driver for the device benchmarks, as tests/MiniVmm.Gpu.Tests' GpuHarness does (that
/// one asserts with xUnit, so it is not shared): controlq laid out by <see cref="MockSplitQueue"/> in a flat
/// <see cref="GuestMemory"/>, requests written the way Linux writes them, the device kicked with QueueNotify.
/// Posting and kicking are separate so a benchmark can time the device alone.
/// </summary>
internal sealed class GpuBenchDriver : IDisposable
{
    private const ulong RingBase = 0x1000;
    /// <summary>Request and response buffers come from the queue's bump allocator below this; backing pages above.</summary>
    private const ulong PagesStart = 4 << 20;
    private const uint Page = 4096;
    private readonly FakeVirtioInterrupt _interrupt = new();

    public GpuBenchDriver(GpuOptions options, IScanoutSink? sink)
    {
        ulong frameBytes = (ulong)options.Width * (ulong)options.Height * 4;
        const ulong MiB = 1 << 20;
        Memory = GuestMemory.CreateFlat(PagesStart + ((frameBytes + MiB - 1) / MiB * MiB));
        Control = new MockSplitQueue(Memory, 256, RingBase, PagesStart);
        Device = new VirtioGpuDevice(options, sink);
        Device.Activate(new VirtioActivation(1UL << 32, [Control.CreateQueue()], _interrupt)); // VIRTIO_F_VERSION_1
    }

    public GuestMemory Memory { get; }
    public MockSplitQueue Control { get; }
    public VirtioGpuDevice Device { get; }

    public void Dispose() => Memory.Dispose();

    public static VirtioGpuCtrlHdr Hdr(VirtioGpuCtrlType type) => new() { Type = (uint)type };

    /// <summary>Publishes a request (plus <paramref name="extra"/> in a second readable descriptor) and a 24-byte response buffer.</summary>
    public MockChain Post<T>(in T command, byte[]? extra = null) where T : unmanaged
    {
        var buffers = new List<MockBuffer> { MockBuffer.Readable(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in command))) };
        if (extra is { Length: > 0 })
            buffers.Add(MockBuffer.Readable(extra));
        buffers.Add(MockBuffer.WritableSpace(24));
        return Control.AddChain([.. buffers]);
    }

    public void Kick() => Device.QueueNotify(VirtioGpuConstants.ControlQueue);

    /// <summary>The driver's completion path: exactly <paramref name="chain"/> came back, answered OK_NODATA.</summary>
    public void ExpectOk(MockChain chain, string what)
    {
        var used = Control.TakeUsed();
        if (used.Count != 1 || used[0].Id != chain.Head)
            throw new InvalidOperationException($"{what}: expected the one chain back, got {used.Count} used elements");
        var type = (VirtioGpuCtrlType)Memory.Read<uint>(chain.BufferAddresses[^1]);
        if (type != VirtioGpuCtrlType.RESP_OK_NODATA)
            throw new InvalidOperationException($"{what}: the device answered {type}");
    }

    public void Complete(MockChain chain, string what)
    {
        Kick();
        ExpectOk(chain, what);
    }

    public void Run<T>(in T command, string what, byte[]? extra = null) where T : unmanaged =>
        Complete(Post(in command, extra), what);

    /// <summary>CREATE_2D (B8G8R8X8) and ATTACH_BACKING with one 4 KiB entry per page, like a shmem dumb buffer; returns the pages.</summary>
    public GuestAddress CreateBackedResource(uint id, uint width, uint height)
    {
        Run(new VirtioGpuResourceCreate2d
        {
            Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_CREATE_2D),
            ResourceId = id,
            Format = (uint)VirtioGpuFormat.B8G8R8X8_UNORM,
            Width = width,
            Height = height,
        }, "CREATE_2D");
        ulong size = (ulong)width * height * 4;
        var entries = new VirtioGpuMemEntry[(size + Page - 1) / Page];
        for (int i = 0; i < entries.Length; i++)
        {
            ulong offset = (ulong)i * Page;
            entries[i] = new VirtioGpuMemEntry { Addr = PagesStart + offset, Length = (uint)Math.Min(Page, size - offset) };
        }
        Run(new VirtioGpuResourceAttachBacking
        {
            Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_ATTACH_BACKING),
            ResourceId = id,
            NrEntries = (uint)entries.Length,
        }, "ATTACH_BACKING", MemoryMarshal.AsBytes(entries.AsSpan()).ToArray());
        return new GuestAddress(PagesStart);
    }

    public MockChain PostTransfer(uint id, VirtioGpuRect rect) =>
        Post(new VirtioGpuTransferToHost2d { Hdr = Hdr(VirtioGpuCtrlType.CMD_TRANSFER_TO_HOST_2D), R = rect, ResourceId = id });

    public MockChain PostFlush(uint id, VirtioGpuRect rect) =>
        Post(new VirtioGpuResourceFlush { Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_FLUSH), R = rect, ResourceId = id });

    public void SetScanout(uint scanoutId, uint id, VirtioGpuRect rect) =>
        Run(new VirtioGpuSetScanout { Hdr = Hdr(VirtioGpuCtrlType.CMD_SET_SCANOUT), R = rect, ScanoutId = scanoutId, ResourceId = id }, "SET_SCANOUT");
}
