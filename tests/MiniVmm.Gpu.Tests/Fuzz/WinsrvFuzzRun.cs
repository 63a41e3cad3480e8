using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Gpu.Tests.Winsrv;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Fuzz;

/// <summary>
/// Random CONNECT, DISCONNECT and TX (with blobs to pass) against a winsrv device and a draining compositor, each
/// answer checked like <see cref="GpuFuzzDriver"/> does; the connections and blobs the guest was told of are tracked.
/// </summary>
internal sealed class WinsrvFuzzRun(WinsrvHarness harness, Random random, int seed, ulong poolStart, ulong poolSize)
{
    private readonly Queue<string> _recent = new();
    private readonly List<uint> _connected = [];
    private readonly List<uint> _blobs = [];
    private int _sent;

    /// <summary>A context with no capset, made by <see cref="CreatePlainContext"/>, that HOST3D blobs name.</summary>
    public const uint PlainContext = 1;

    public IReadOnlyList<uint> Connected => _connected;

    public void CreatePlainContext()
    {
        var create = new VirtioGpuCtxCreate { Hdr = GpuHarness.Hdr(CMD_CTX_CREATE, ctxId: PlainContext) };
        Check(Control("CTX_CREATE", GpuHarness.Bytes(in create)) == RESP_OK_NODATA, "CTX_CREATE failed");
    }
    public IReadOnlyList<uint> Blobs => _blobs;

    public void Step()
    {
        try
        {
            StepUnchecked();
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            Check(false, $"the device threw {e}"); // still a failure: this only adds the seed and the commands
            throw;
        }
        Check(harness.Device.Backend.ResourceCount == _blobs.Count, $"device holds {harness.Device.Backend.ResourceCount} resources, the guest {_blobs.Count}");
    }

    private void StepUnchecked()
    {
        switch (random.Next(100))
        {
            case < 22: Connect(); break;
            case < 28: Disconnect(Id()); break;
            case < 80: Tx(); break;
            case < 92: CreateBlob(); break;
            default: Unref(random.Next(100) < 70 && _blobs.Count > 0 ? _blobs[random.Next(_blobs.Count)] : (uint)random.Next(0, 40)); break;
        }
        if (random.Next(100) < 3)
            CheckRx();
    }

    private T Pick<T>(params T[] values) => values[random.Next(values.Length)];

    private uint Id() => random.Next(100) switch
    {
        < 75 when _connected.Count > 0 => _connected[random.Next(_connected.Count)],
        < 95 => (uint)random.Next(0, 10),
        _ => Pick(uint.MaxValue, 0x8000_0000u),
    };

    private void Connect()
    {
        uint id = Id();
        var command = new WinsrvConnect { Hdr = { Type = harness.Options.WinsrvNumbers.CmdConnect }, Fd = id, Channel = random.Next(100) < 85 ? Pick(0u, 1u) : Pick(16u, 17u, uint.MaxValue) };
        var bytes = GpuHarness.Bytes(in command);
        if (random.Next(100) < 5)
            bytes = bytes[..random.Next(bytes.Length)];
        if (Control($"CONNECT id={id} channel={command.Channel} len={bytes.Length}", bytes) == RESP_OK_NODATA && !_connected.Contains(id))
            _connected.Add(id);
    }

    public void Disconnect(uint id)
    {
        var command = new WinsrvConnect { Hdr = { Type = harness.Options.WinsrvNumbers.CmdDisconnect }, Fd = id };
        if (Control($"DISCONNECT id={id}", GpuHarness.Bytes(in command)) == RESP_OK_NODATA)
            _connected.Remove(id);
    }

    private void CreateBlob()
    {
        uint id = (uint)random.Next(1, 40);
        var entries = new[] { (poolStart + (ulong)random.Next(0, (int)(poolSize / 4096)) * 4096, 4096u) };
        // HOST3D blobs (in the plain context) have a memfd a TX can pass; guest-memory blobs have none.
        bool host = random.Next(100) < 60;
        var blob = new VirtioGpuResourceCreateBlob
        {
            Hdr = GpuHarness.Hdr(CMD_RESOURCE_CREATE_BLOB, ctxId: host ? PlainContext : 0), ResourceId = id,
            BlobMem = host ? VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_HOST3D : VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_GUEST,
            BlobFlags = GpuHarness.Shareable, NrEntries = host ? 0u : 1u, BlobId = (ulong)random.Next(0, 4),
            Size = random.Next(100) < 90 ? 4096 : Pick(0UL, 4095UL, ulong.MaxValue),
        };
        byte[] request = [.. GpuHarness.Bytes(in blob), .. host ? [] : GpuHarness.MemEntries(entries)];
        if (Control($"CREATE_BLOB {(host ? "host" : "guest")} id={id} size={blob.Size}", request) == RESP_OK_NODATA)
            _blobs.Add(id);
    }

    public void Unref(uint id)
    {
        var unref = new VirtioGpuResourceUnref { Hdr = GpuHarness.Hdr(CMD_RESOURCE_UNREF), ResourceId = id };
        if (Control($"UNREF id={id}", GpuHarness.Bytes(in unref)) == RESP_OK_NODATA)
            _blobs.Remove(id);
    }

    private void Tx()
    {
        uint id = Id();
        var data = new byte[random.Next(100) < 90 ? random.Next(0, 300) : random.Next(300, 5000)];
        random.NextBytes(data);
        uint? len = random.Next(100) < 10 ? Pick((uint)data.Length + 1, uint.MaxValue, 4097u, 0u) : null;
        var ids = new uint[random.Next(100) < 70 ? 0 : random.Next(1, WinsrvTx.MaxResourceIds + 1)];
        for (int i = 0; i < ids.Length; i++)
            ids[i] = random.Next(100) < 60 && _blobs.Count > 0 ? _blobs[random.Next(_blobs.Count)] : (uint)random.Next(0, 50);
        int responseSize = Pick(24, 24, 24, 24, 0, 8);
        string text = $"TX id={id} data={data.Length} len={len} ids=[{string.Join(',', ids)}] response={responseSize}";
        Remember(text);
        var (usedLength, type) = harness.SendReply(id, data, ids, len, responseSize);
        CheckAnswer(usedLength, type, responseSize);
        // Certain: a well-formed TX on a connection the guest never opened (or closed) is refused.
        if (usedLength > 0 && !_connected.Contains(id) && len is null && ids.Length == 0 && data.Length <= harness.Options.WinsrvNumbers.MaxData)
            Check(type == RESP_ERR_INVALID_PARAMETER, $"TX on unknown connection {id} answered {type}");
    }

    private VirtioGpuCtrlType Control(string text, byte[] request)
    {
        // Always a full response buffer: the guest follows connections and blobs from these answers.
        Remember(text);
        var (usedLength, type) = harness.SubmitControlReply(request, 24);
        CheckAnswer(usedLength, type, 24);
        return type;
    }

    private void CheckAnswer(uint usedLength, VirtioGpuCtrlType type, int responseSize)
    {
        Check(usedLength <= responseSize, $"used length {usedLength} is past the {responseSize}-byte response buffer");
        Check(usedLength == 0 ? responseSize < 24 : usedLength >= 24 && GpuFuzzDriver.IsResponse(type), $"answer {type} in {usedLength} bytes");
        Check(harness.Interrupt.NeedsResetReasons.Count == 0, $"device asked for a reset: {string.Join("; ", harness.Interrupt.NeedsResetReasons)}");
    }

    /// <summary>Pumps the compositor side; whatever RX buffers came back must fit the buffers posted.</summary>
    public void CheckRx()
    {
        harness.Device.Winsrv!.Pump();
        foreach (var rx in harness.TakeRx())
            Check(rx.UsedLength <= WinsrvTx.Size + 4096, $"RX used length {rx.UsedLength} is past the buffer");
    }

    private void Remember(string text)
    {
        _sent++;
        _recent.Enqueue($"#{_sent} {text}");
        if (_recent.Count > 40)
            _recent.Dequeue();
    }

    public void Check(bool condition, string why)
    {
        if (!condition)
            Assert.Fail($"winsrv seed {seed}, after {_sent} commands: {why}\nlast commands:\n{string.Join('\n', _recent)}\ndevice trace tail:\n{string.Join('\n', harness.Trace.TakeLast(10))}");
    }
}
