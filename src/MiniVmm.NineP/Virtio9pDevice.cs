using System.Buffers.Binary;
using MiniVmm.Virtio;
using MiniVmm.Virtio.Queue;

namespace MiniVmm.NineP;

/// <summary>
/// virtio-9p (virtio spec 5.x "9P transport"; device ID 9): one request queue, each chain a T-message followed by space
/// for its R-message, and a mount tag in config space (VIRTIO_9P_MOUNT_TAG) that the guest mounts by name
/// (<c>mount -t 9p -o trans=virtio TAG DIR</c>). Requests are served on the device's own thread, in order, so file
/// I/O on a slow disk never stalls the shared device event loop. Threading: <see cref="_lock"/> guards the queue, the
/// interrupt and the server; the transport's calls (vCPU threads) and the worker take it.
/// </summary>
public sealed class Virtio9pDevice : IVirtioDevice, IDisposable
{
    public const uint VirtioId9p = 9;
    /// <summary>VIRTIO_9P_MOUNT_TAG: the config space holds tag_len[2] and the tag.</summary>
    public const ulong MountTagFeature = 1UL << 0;
    public const ushort QueueSize = 128;
    /// <summary>The longest mount tag accepted (Linux copies it into a string of its own; short names are the norm).</summary>
    public const int MaxTagLength = 64;

    private readonly object _lock = new();
    private readonly NinePServer _server;
    private readonly byte[] _config;
    private readonly byte[] _request = new byte[NinePServer.MaxMessageSize];
    private readonly AutoResetEvent _work = new(false);
    private readonly Thread _worker;
    private readonly Action<string>? _trace;
    private Virtqueue? _queue;
    private IVirtioInterrupt? _interrupt;
    private volatile bool _stopping;

    public Virtio9pDevice(NinePServer server, string tag, Action<string>? trace = null)
    {
        var tagBytes = System.Text.Encoding.UTF8.GetBytes(tag);
        if (tagBytes.Length is 0 or > MaxTagLength)
            throw new ArgumentException($"9p mount tag must be 1 to {MaxTagLength} bytes", nameof(tag));
        _server = server;
        _trace = trace;
        Tag = tag;
        _config = new byte[2 + tagBytes.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(_config, (ushort)tagBytes.Length);
        tagBytes.CopyTo(_config, 2);
        _worker = new Thread(Serve) { Name = $"virtio-9p {tag}", IsBackground = true };
        _worker.Start();
    }

    public string Tag { get; }
    public uint DeviceType => VirtioId9p;
    public ulong DeviceFeatures => MountTagFeature;
    public IReadOnlyList<ushort> QueueMaxSizes { get; } = [QueueSize];

    public void ReadConfig(uint offset, Span<byte> data)
    {
        data.Clear();
        if (offset < _config.Length)
            _config.AsSpan((int)offset, Math.Min(data.Length, _config.Length - (int)offset)).CopyTo(data);
    }

    public void WriteConfig(uint offset, ReadOnlySpan<byte> data)
    {
        // The mount tag is read-only; the spec gives the driver nothing to write.
    }

    public void Activate(VirtioActivation activation)
    {
        lock (_lock)
        {
            _queue = activation.Queues.Count > 0 ? activation.Queues[0] : null;
            _interrupt = activation.Interrupt;
        }
        _work.Set(); // buffers may already be waiting
    }

    public void Reset()
    {
        lock (_lock)
        {
            _queue = null;
            _interrupt = null;
            _server.Dispose(); // every fid and open file of the old session goes; v9fs starts again with Tversion
        }
    }

    public void QueueNotify(int queueIndex)
    {
        if (queueIndex == 0)
            _work.Set();
    }

    private void Serve()
    {
        while (true)
        {
            _work.WaitOne();
            if (_stopping)
                return;
            lock (_lock)
            {
                if (_queue is { } queue && _interrupt is { } interrupt)
                    ServeLocked(queue, interrupt);
            }
        }
    }

    private void ServeLocked(Virtqueue queue, IVirtioInterrupt interrupt) =>
        QueueServing.Serve(queue, 0, interrupt, $"virtio-9p {Tag}", Answer);

    /// <summary>Reads the T-message (at most msize bytes are looked at), writes the R-message; returns used.len.</summary>
    private uint Answer(DescriptorChain chain)
    {
        int length = (int)Math.Min(chain.ReadableLength, (uint)_server.MessageSize);
        var request = _request.AsSpan(0, length);
        if (!chain.CreateReader().TryReadBytes(request))
            return 0;
        var reply = _server.Handle(request, (int)Math.Min(chain.WritableLength, int.MaxValue));
        if (_trace is not null && request.Length >= NinePConstants.HeaderSize && reply.Length >= NinePConstants.HeaderSize)
            _trace($"{(NinePMessageType)request[4]} tag {BinaryPrimitives.ReadUInt16LittleEndian(request[5..])} -> {(NinePMessageType)reply[4]} ({reply.Length} bytes)");
        var writer = chain.CreateWriter();
        return writer.TryWriteBytes(reply) ? writer.BytesWritten : 0;
    }

    public void Dispose()
    {
        _stopping = true;
        _work.Set();
        _worker.Join(TimeSpan.FromSeconds(5));
        lock (_lock)
            _server.Dispose();
        _work.Dispose();
    }
}
