using System.Globalization;
using System.Runtime.InteropServices;
using MiniVmm.Gpu;
using MiniVmm.CrossDomain;
using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Memory;
using MiniVmm.Sys;
using MiniVmm.TestSupport;
using MiniVmm.Virtio;

namespace MiniVmm.Bench;

/// <summary>
/// <c>budget</c>: the host memory a hostile guest driver makes the device hold, as a ratio to the configured budget
/// (<c>max-host-memory</c>). Each attack runs on a fresh device with a 64 MiB budget, driven through the split
/// virtqueue like the tests' GuestHarness, far past what the budget admits; the managed heap growth (after a full
/// collection) and the RSS growth are measured against the budget. One line per attack:
/// <c>attack=NAME commands=N accepted=A heap_kib=H rss_kib=R budget_kib=B</c>. The cross-domain row drives the
/// channels directly: 64 compositor connections that never read, sharing one device ledger whose room is the budget.
/// </summary>
internal static class BudgetBench
{
    private const long Budget = 64L << 20;
    private const ulong MemorySize = 32 << 20;
    private const ulong PagesStart = 24 << 20;

    public static int Run(string[] args)
    {
        _ = args;
        Measure("1x1 resources", 300_000, (d, i) => d.Create2D(i + 1, 1, 1));
        Measure("GUEST blobs, 8192 entries each", 2_000, (d, i) => d.GuestBlob(i + 1, 8192));
        Measure("2D backing, 8192 entries each", 2_000, (d, i) => d.Create2D(i + 1, 4, 4) && d.Attach(i + 1, 8192));
        Measure("HOST3D blobs of 4 KiB", 8_000, (d, i) => d.HostBlob(i + 2));
        Measure("SET_SCANOUT of 1024x1024 on 16 heads", 16, (d, i) => (i > 0 || d.Create2D(1, 1024, 1024)) && d.SetScanout(i, 1, 1024, 1024));
        MeasureStuckCompositors("SENDs to 64 compositors that never read", 64 * 400);
        return 0;
    }

    private static void Measure(string name, int commands, Func<Driver, uint, bool> attack)
    {
        using var driver = new Driver();
        Print(name, commands, driver, (d, i) => attack(d, (uint)i));
        driver.Device.Reset();
    }

    /// <summary>SEND after SEND of the largest cross-domain message, round-robin over channels whose compositor stopped reading.</summary>
    private static void MeasureStuckCompositors(string name, int sends)
    {
        var ledger = new CrossDomainLedger();
        ledger.BudgetRoom = () => Budget - ledger.QueuedBytes; // a device with nothing else allocated
        var pairs = Enumerable.Range(0, 64).Select(_ => UnixSocket.CreatePair()).ToList();
        var channels = pairs.Select(pair => CrossDomainChannel.FromSocket(pair.Item1, NoResources.Instance, ledger)).ToList();
        var message = new byte[CrossDomainConstants.MaxSendReceiveData];
        Print(name, sends, channels, (all, i) => all[i % all.Count].Send(message, default) == CrossDomainChannelError.None);
        foreach (var channel in channels)
            channel.Dispose();
        foreach (var (_, peer) in pairs)
            peer.Dispose();
    }

    /// <summary>Runs <paramref name="commands"/> attacks and prints the growth of the heap and RSS they caused.</summary>
    private static void Print<T>(string name, int commands, T target, Func<T, int, bool> attack)
    {
        long heap = Heap(), rss = Rss();
        int accepted = 0;
        for (int i = 0; i < commands; i++)
            accepted += attack(target, i) ? 1 : 0;
        long heapGrowth = Heap() - heap, rssGrowth = Rss() - rss;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"attack={name.Replace(' ', '_')} commands={commands} accepted={accepted} heap_kib={heapGrowth >> 10} rss_kib={rssGrowth >> 10} budget_kib={Budget >> 10}"));
    }

    /// <summary>A context with no blobs: SENDs carry bytes only, and compositor fds are refused.</summary>
    private sealed class NoResources : ICrossDomainResources
    {
        public static NoResources Instance { get; } = new();

        public bool TryGetFd(uint resourceId, out SafeHandle fd, out ulong size)
        {
            fd = null!;
            size = 0;
            return false;
        }

        public uint RegisterHostFd(SafeHandle fd, ulong size)
        {
            fd.Dispose();
            return 0;
        }
    }

    private static long Heap() => ProcessMemory.ManagedHeap();

    private static long Rss() => ProcessMemory.Rss();

    /// <summary>The guest driver: a control queue whose mem-entry tables live once in guest memory and are sent by address.</summary>
    private sealed class Driver : IDisposable
    {
        private readonly MockSplitQueue _control;
        private readonly FakeVirtioInterrupt _interrupt = new();
        private readonly ulong _table;
        private readonly GuestAddress _request, _response; // reused: each request is answered before the next

        public Driver()
        {
            Memory = GuestMemory.CreateFlat(MemorySize);
            _control = new MockSplitQueue(Memory, 256, 0x1000, PagesStart);
            Device = new VirtioGpuDevice(new GpuOptions { Blob = true, Contexts = true, Scanouts = 16, MaxHostMemoryBytes = Budget });
            Device.Activate(new VirtioActivation(Device.DeviceFeatures | (1UL << 32), [_control.CreateQueue()], _interrupt));
            _request = _control.Allocate(256);
            _response = _control.Allocate(24);
            _table = PagesStart + 4096;
            var entry = new VirtioGpuMemEntry { Addr = PagesStart, Length = 4096 };
            for (ulong i = 0; i < 8192; i++)
                Memory.Write(new GuestAddress(_table + 16 * i), entry);
            var context = new VirtioGpuCtxCreate { Hdr = Hdr(VirtioGpuCtrlType.CMD_CTX_CREATE, 1), ContextInit = VirtioGpuConstants.VIRTIO_GPU_CAPSET_CROSS_DOMAIN };
            Submit(Bytes(in context), 0);
        }

        public GuestMemory Memory { get; }
        public VirtioGpuDevice Device { get; }

        public void Dispose() => Memory.Dispose();

        public bool Create2D(uint id, uint width, uint height)
        {
            var command = new VirtioGpuResourceCreate2d
            {
                Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_CREATE_2D),
                ResourceId = id,
                Format = (uint)VirtioGpuFormat.B8G8R8X8_UNORM,
                Width = width,
                Height = height,
            };
            return Submit(Bytes(in command), 0);
        }

        public bool Attach(uint id, int entries)
        {
            var command = new VirtioGpuResourceAttachBacking { Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_ATTACH_BACKING), ResourceId = id, NrEntries = (uint)entries };
            return Submit(Bytes(in command), entries);
        }

        public bool GuestBlob(uint id, int entries)
        {
            var command = new VirtioGpuResourceCreateBlob
            {
                Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_CREATE_BLOB),
                ResourceId = id,
                BlobMem = VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_GUEST,
                BlobFlags = VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE,
                NrEntries = (uint)entries,
                Size = 4096,
            };
            return Submit(Bytes(in command), entries);
        }

        public bool HostBlob(uint id)
        {
            var command = new VirtioGpuResourceCreateBlob
            {
                Hdr = Hdr(VirtioGpuCtrlType.CMD_RESOURCE_CREATE_BLOB, 1),
                ResourceId = id,
                BlobMem = VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_HOST3D,
                BlobFlags = VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE,
                BlobId = 1,
                Size = 4096,
            };
            return Submit(Bytes(in command), 0);
        }

        public bool SetScanout(uint scanout, uint id, uint width, uint height)
        {
            var command = new VirtioGpuSetScanout
            {
                Hdr = Hdr(VirtioGpuCtrlType.CMD_SET_SCANOUT),
                ScanoutId = scanout,
                ResourceId = id,
                R = new VirtioGpuRect(0, 0, width, height),
            };
            return Submit(Bytes(in command), 0);
        }

        private static VirtioGpuCtrlHdr Hdr(VirtioGpuCtrlType type, uint ctxId = 0) => new() { Type = (uint)type, CtxId = ctxId };

        private static byte[] Bytes<T>(in T value) where T : unmanaged => MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)).ToArray();

        /// <summary>One request (with <paramref name="entries"/> of the shared table), kicked; true when answered OK_NODATA.</summary>
        private bool Submit(byte[] request, int entries)
        {
            Memory.Write(_request, request);
            var buffers = new List<MockBuffer> { MockBuffer.Raw(_request.Value, (uint)request.Length, writable: false) };
            if (entries > 0)
                buffers.Add(MockBuffer.Raw(_table, (uint)entries * 16, writable: false));
            buffers.Add(MockBuffer.Raw(_response.Value, 24, writable: true));
            _control.AddChain([.. buffers]);
            Device.QueueNotify(VirtioGpuConstants.ControlQueue);
            _control.TakeUsed();
            return Memory.Read<uint>(_response) == (uint)VirtioGpuCtrlType.RESP_OK_NODATA;
        }
    }
}
