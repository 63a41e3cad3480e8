using System.Diagnostics;
using System.Runtime.InteropServices;
using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Memory;
using MiniVmm.Sys;
using MiniVmm.TestSupport;
using MiniVmm.Virtio;

namespace MiniVmm.Gpu.Tests.Winsrv;

/// <summary>One filled RX buffer: the used length, the header and the data bytes.</summary>
internal sealed record WinsrvRx(uint UsedLength, WinsrvTx Header, byte[] Data)
{
    public uint[] ResourceIds => [.. Enumerable.Range(0, WinsrvTx.MaxResourceIds).Select(i => Header.ResourceIds[i]).Where(id => id != 0)];
}

/// <summary>
/// A guest winsrv driver in a box: a winsrv=on device with all four queues laid out by <see cref="MockSplitQueue"/>
/// (control, cursor, rx, tx in 32 MiB), CONNECT/DISCONNECT on the control queue, TX and posted RX buffers.
/// </summary>
internal sealed class WinsrvHarness : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private const ulong MiB = 1 << 20;
    private readonly Dictionary<ushort, ulong> _rxBuffers = [];

    public WinsrvHarness(string? socket, GpuOptions? options = null, bool negotiate = true, EventLoop? loop = null,
        IHostVisibleRegion? region = null)
        : this(CompositorSockets.Only(socket), options, negotiate, loop, region)
    {
    }

    public WinsrvHarness(CompositorSockets sockets, GpuOptions? options = null, bool negotiate = true, EventLoop? loop = null,
        IHostVisibleRegion? region = null)
    {
        Memory = GuestMemory.CreateFlat(32 * MiB);
        Control = new MockSplitQueue(Memory, 256, 0x1000, 4 * MiB);
        Cursor = new MockSplitQueue(Memory, 16, 4 * MiB, 5 * MiB);
        Rx = new MockSplitQueue(Memory, 256, 5 * MiB, 12 * MiB);
        Tx = new MockSplitQueue(Memory, 256, 12 * MiB, 20 * MiB);
        Options = (options ?? new GpuOptions { Edid = false, Winsrv = true }) with { WaylandSockets = sockets };
        Device = new VirtioGpuDevice(Options, tracer: Trace.Add, region: region);
        ulong features = Device.DeviceFeatures | (1UL << 32);
        if (!negotiate)
            features &= ~(1UL << Options.WinsrvNumbers.FeatureBit);
        Device.Activate(new VirtioActivation(features, [Control.CreateQueue(), Cursor.CreateQueue(), Rx.CreateQueue(), Tx.CreateQueue()], Interrupt));
        if (loop is not null)
            Device.Winsrv!.UseEventLoop(loop);
    }

    public GuestMemory Memory { get; }
    public MockSplitQueue Control { get; }
    public MockSplitQueue Cursor { get; }
    public MockSplitQueue Rx { get; }
    public MockSplitQueue Tx { get; }
    public GpuOptions Options { get; }
    public VirtioGpuDevice Device { get; }
    public FakeVirtioInterrupt Interrupt { get; } = new();
    public List<string> Trace { get; } = [];
    private WinsrvNumbers Numbers => Options.WinsrvNumbers;

    public void Dispose()
    {
        Device.Reset();
        Memory.Dispose();
    }

    /// <summary>CONNECT; <paramref name="channel"/> picks the compositor socket (0 or 1 unnamed, 20..31 named).</summary>
    public VirtioGpuCtrlType Connect(uint id, uint channel = 0) => SubmitControl(ConnectBytes(Numbers.CmdConnect, id, channel));

    public VirtioGpuCtrlType Disconnect(uint id) => SubmitControl(ConnectBytes(Numbers.CmdDisconnect, id, 0));

    public VirtioGpuCtrlType SubmitControl<T>(in T command, uint responseSize = 24) where T : unmanaged =>
        SubmitControl(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in command)).ToArray(), responseSize);

    public VirtioGpuCtrlType SubmitControl(byte[] request, uint responseSize = 24) => SubmitControlReply(request, responseSize).Type;

    /// <summary>A control request; the used length and the response type (read from the buffer even when used.len is 0).</summary>
    public (uint UsedLength, VirtioGpuCtrlType Type) SubmitControlReply(byte[] request, uint responseSize)
    {
        var chain = Control.AddChain(MockBuffer.Readable(request), MockBuffer.WritableSpace(responseSize));
        Device.QueueNotify(VirtioGpuConstants.ControlQueue);
        var used = Assert.Single(Control.TakeUsed());
        Assert.Equal(chain.Head, (ushort)used.Id);
        return (used.Len, (VirtioGpuCtrlType)BitConverter.ToUInt32(Control.ReadBytes(chain.BufferAddresses[^1], 24)));
    }

    /// <summary>A TX on the tx queue; <paramref name="len"/> overrides the header's len (hostile tests). Returns the response type.</summary>
    public VirtioGpuCtrlType Send(uint id, ReadOnlySpan<byte> data, uint[]? resourceIds = null, uint? len = null, int responseSize = 24) =>
        SendReply(id, data, resourceIds, len, responseSize).Type;

    /// <summary><see cref="Send"/> with the used length too.</summary>
    public (uint UsedLength, VirtioGpuCtrlType Type) SendReply(uint id, ReadOnlySpan<byte> data, uint[]? resourceIds = null, uint? len = null, int responseSize = 24)
    {
        var tx = new WinsrvTx { Hdr = { Type = Numbers.CmdTx }, Fd = id, Len = len ?? (uint)data.Length };
        var ids = resourceIds ?? [];
        for (int i = 0; i < ids.Length; i++)
            tx.ResourceIds[i] = ids[i];
        byte[] request = [.. MemoryMarshal.AsBytes(new ReadOnlySpan<WinsrvTx>(in tx)), .. data];
        var buffers = new List<MockBuffer> { MockBuffer.Readable(request) };
        if (responseSize > 0)
            buffers.Add(MockBuffer.WritableSpace((uint)responseSize));
        var chain = Tx.AddChain([.. buffers]);
        Device.QueueNotify(Numbers.TxQueueIndex);
        var used = Assert.Single(Tx.TakeUsed());
        Assert.Equal(chain.Head, (ushort)used.Id);
        return (used.Len, responseSize == 0 ? default : (VirtioGpuCtrlType)BitConverter.ToUInt32(Tx.ReadBytes(chain.BufferAddresses[^1], 24)));
    }

    /// <summary>Posts <paramref name="count"/> RX buffers of <paramref name="size"/> bytes and kicks the rx queue.</summary>
    public void PostRx(int count, uint size = WinsrvTx.Size + 4096)
    {
        for (int i = 0; i < count; i++)
        {
            var chain = Rx.AddChain(MockBuffer.WritableSpace(size));
            _rxBuffers[chain.Head] = chain.BufferAddresses[0].Value;
        }
        Device.QueueNotify(Numbers.RxQueueIndex);
    }

    /// <summary>The RX buffers the device has filled since the last call.</summary>
    public List<WinsrvRx> TakeRx()
    {
        var result = new List<WinsrvRx>();
        foreach (var used in Rx.TakeUsed())
        {
            ulong address = _rxBuffers[(ushort)used.Id];
            if (used.Len < WinsrvTx.Size)
            {
                result.Add(new WinsrvRx(used.Len, default, []));
                continue;
            }
            var header = MemoryMarshal.Read<WinsrvTx>(Rx.ReadBytes(new GuestAddress(address), WinsrvTx.Size));
            var data = Rx.ReadBytes(new GuestAddress(address + WinsrvTx.Size), (int)Math.Min(header.Len, used.Len - WinsrvTx.Size));
            result.Add(new WinsrvRx(used.Len, header, data));
        }
        return result;
    }

    /// <summary>Collects RX buffers (pumping by hand when there is no event loop) until <paramref name="done"/> holds.</summary>
    public List<WinsrvRx> WaitRx(Func<List<WinsrvRx>, bool> done, bool pump = false)
    {
        var all = new List<WinsrvRx>();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (pump)
                Device.Winsrv!.Pump();
            all.AddRange(TakeRx());
            if (done(all))
                return all;
            if (clock.Elapsed > Timeout)
                throw new TimeoutException($"after {all.Count} RX buffers the expected one had not come\n{string.Join('\n', Trace)}");
            Thread.Sleep(5);
        }
    }

    private static byte[] ConnectBytes(uint type, uint id, uint channel)
    {
        var command = new WinsrvConnect { Hdr = { Type = type }, Fd = id, Channel = channel };
        return MemoryMarshal.AsBytes(new ReadOnlySpan<WinsrvConnect>(in command)).ToArray();
    }
}
