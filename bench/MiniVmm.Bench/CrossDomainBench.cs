using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using MiniVmm.CrossDomain;
using MiniVmm.Memory;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;
using MiniVmm.Wayland.Tests.Support;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace MiniVmm.Bench;

/// <summary>
/// winsrv: the cross-domain host half against a real headless Weston, each figure against a native client on the
/// same Weston in the same process, measured in alternating blocks.
///   sync:  wl_display.sync → wl_callback.done: SEND then the fenced POLL's RECEIVE, vs WaylandConnection.Roundtrip.
///   frames: 1920x1080 XRGB frames through a wl_shm pool of two buffers: per frame the client writes the whole
///          buffer, attach + damage_buffer + frame + commit + sync, and waits for the sync; the device side's pool is
///          a HOST3D blob (passed as a SEND identifier), the native side's its own memfd.
///   send:  max-size SENDs (3744 bytes = 156 wl_surface.damage) then one sync, vs the same bytes written in the same
///          chunks to a native Wayland socket then one sync.
/// </summary>
internal static unsafe class CrossDomainBench
{
    private const int Width = 1920, Height = 1080, Stride = Width * 4, BufferBytes = Stride * Height;

    public static int Run(string[] args)
    {
        int runs = Runs(args, 50);
        using var weston = WestonCompositor.Start(Width, Height);
        using var guest = new CrossDomainGuest(weston.SocketPath, hostMemory: 32 << 20);
        using var blob = guest.CreateMappedHostBlob(200, 2UL * BufferBytes);
        using var device = new MiniClient(new CrossDomainTransport(guest, 200), weston);
        using var native = new MiniClient(new NativeTransport(weston.SocketPath), weston);
        using var nativeMemfd = MappedFd.CreateMemfd("bench-native-pool", 2UL * BufferBytes);
        using var nativeConnection = WaylandConnection.Connect(weston.SocketPath);

        // 1. sync round trip
        var syncDevice = new List<double>();
        var syncNative = new List<double>();
        int syncRounds = runs * 10;
        for (int block = 0; block < 10 + 1; block++)
        {
            for (int i = 0; i < syncRounds / 10; i++)
            {
                long start = Stopwatch.GetTimestamp();
                device.Sync();
                double us = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                if (block > 0) syncDevice.Add(us);
            }
            for (int i = 0; i < syncRounds / 10; i++)
            {
                long start = Stopwatch.GetTimestamp();
                if (!nativeConnection.Roundtrip(TimeSpan.FromSeconds(5)))
                    throw new InvalidOperationException("native roundtrip failed: " + nativeConnection.CloseReason);
                double us = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                if (block > 0) syncNative.Add(us);
            }
        }

        // 2. frames
        device.SetUpWindow();
        native.SetUpWindow();
        device.CreatePool(2 * BufferBytes, null);
        native.CreatePool(2 * BufferBytes, nativeMemfd.Fd);
        var pattern = new byte[BufferBytes];
        for (int i = 0; i < pattern.Length; i++)
            pattern[i] = (byte)(i * 7 + (i >> 12));
        int frames = Math.Max(10, runs * 2);
        double deviceSeconds = 0, nativeSeconds = 0;
        long sendBefore = guest.SendBytes, receiveBefore = guest.ReceiveBytes;
        int frameBlocks = 4;
        for (int block = 0; block < frameBlocks + 1; block++)
        {
            long sb = guest.SendBytes, rb = guest.ReceiveBytes;
            double d = FrameLoop(device, blob, pattern, frames / frameBlocks);
            double n = FrameLoop(native, nativeMemfd, pattern, frames / frameBlocks);
            if (block == 0)
            {
                sendBefore += guest.SendBytes - sb;
                receiveBefore += guest.ReceiveBytes - rb;
                continue;
            }
            deviceSeconds += d;
            nativeSeconds += n;
        }
        int timedFrames = frames / frameBlocks * frameBlocks;
        double deviceFps = timedFrames / deviceSeconds, nativeFps = timedFrames / nativeSeconds;
        double wireBytesPerFrame = (double)(guest.SendBytes - sendBefore + guest.ReceiveBytes - receiveBefore) / timedFrames;

        // 3. SEND throughput: max-size SENDs of wl_surface.damage requests
        var chunk = device.DamageChunk(CrossDomainConstants.MaxSendReceiveData);
        var nativeChunk = native.DamageChunk(CrossDomainConstants.MaxSendReceiveData);
        int sends = Math.Max(200, runs * 40);
        double deviceMbps = 0, nativeMbps = 0;
        var dm = new List<double>();
        var nm = new List<double>();
        for (int block = 0; block < 4; block++)
        {
            dm.Add(SendLoop(device, chunk, sends));
            nm.Add(SendLoop(native, nativeChunk, sends));
        }
        dm.RemoveAt(0);
        nm.RemoveAt(0);
        deviceMbps = GpuBench.Percentile(dm, 50);
        nativeMbps = GpuBench.Percentile(nm, 50);

        Console.WriteLine(FormattableString.Invariant(
            $"sync_rounds={syncDevice.Count} sync_median_us={GpuBench.Percentile(syncDevice, 50):0.0} sync_p90_us={GpuBench.Percentile(syncDevice, 90):0.0} sync_native_median_us={GpuBench.Percentile(syncNative, 50):0.0} sync_native_p90_us={GpuBench.Percentile(syncNative, 90):0.0} frames={timedFrames} fps={deviceFps:0.0} native_fps={nativeFps:0.0} pixel_bytes_copied_per_frame={device.PixelBytesCopiedByDevice} wire_bytes_per_frame={wireBytesPerFrame:0} send_bytes={chunk.Length}x{sends} send_mbps={deviceMbps:0.0} send_native_mbps={nativeMbps:0.0}"));
        return 0;
    }

    private static double FrameLoop(MiniClient client, MappedMemfd pool, byte[] pattern, int frames)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < frames; i++)
        {
            int buffer = client.NextBuffer();
            var pixels = pool.GetSpan((ulong)buffer * BufferBytes, BufferBytes);
            pattern.CopyTo(pixels);
            pixels[i & 0xffff] ^= 0xff; // differs frame to frame
            client.PresentAndSync(buffer);
        }
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>
    /// The bench's mock driver hands out descriptors round-robin (3 per SEND), so the outstanding POLL's head index
    /// would be reused after ~85 SENDs; a sync every <see cref="SendsPerSync"/> SENDs renews it. Both sides do the
    /// same, so the ratio is unaffected.
    /// </summary>
    private const int SendsPerSync = 50;

    private static double SendLoop(MiniClient client, byte[] chunk, int sends)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < sends; i++)
        {
            client.Transport.Send(chunk, withPool: false);
            if ((i + 1) % SendsPerSync == 0)
                client.Sync();
        }
        client.Sync();
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return (double)chunk.Length * sends / seconds / 1e6;
    }

    private static int Runs(string[] args, int fallback)
    {
        int at = Array.IndexOf(args, "--runs");
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }

    internal interface ITransport : IDisposable
    {
        /// <summary>Sends all of <paramref name="data"/>; with the pool fd (native) or blob identifier (device) when asked.</summary>
        void Send(ReadOnlySpan<byte> data, bool withPool, SafeHandle? poolFd = null);
        /// <summary>Blocks until some bytes arrive; returns how many.</summary>
        int Receive(Span<byte> into);
        long PixelBytesCopied { get; }
    }

    private sealed class CrossDomainTransport(CrossDomainGuest guest, uint blobResource) : ITransport
    {
        private readonly byte[] _buffer = new byte[CrossDomainConstants.MaxSendReceiveData];

        public long PixelBytesCopied => 0; // no frame-loop command carries pixels: see the note in run.sh

        public void Send(ReadOnlySpan<byte> data, bool withPool, SafeHandle? poolFd)
        {
            for (int at = 0; at < data.Length;)
            {
                int n = Math.Min(data.Length - at, CrossDomainConstants.MaxSendReceiveData);
                if (withPool && at == 0)
                    guest.Send(data.Slice(at, n), blobResource);
                else
                    guest.Send(data.Slice(at, n));
                at += n;
            }
        }

        public int Receive(Span<byte> into)
        {
            int n = guest.Receive(_buffer);
            _buffer.AsSpan(0, n).CopyTo(into);
            return n;
        }

        public void Dispose() { }
    }

    private sealed class NativeTransport(string path) : ITransport
    {
        private readonly UnixSocket _socket = UnixSocket.Connect(path);
        private readonly FdQueue _fds = new();

        public long PixelBytesCopied => 0;

        public void Send(ReadOnlySpan<byte> data, bool withPool, SafeHandle? poolFd)
        {
            Span<int> fds = stackalloc int[1];
            bool fdPending = withPool;
            while (!data.IsEmpty)
            {
                if (fdPending)
                    fds[0] = (int)poolFd!.DangerousGetHandle();
                int sent = _socket.Send(data, fdPending ? fds : [], out int errno);
                if (sent < 0)
                {
                    if (errno != EAGAIN)
                        throw new InvalidOperationException($"send failed (errno {errno})");
                    Wait(POLLOUT);
                    continue;
                }
                fdPending = false;
                data = data[sent..];
            }
        }

        public int Receive(Span<byte> into)
        {
            while (true)
            {
                int n = _socket.Receive(into, _fds, out int errno, out var fdError);
                if (n > 0)
                    return n;
                if (n == 0 || errno != EAGAIN)
                    throw new InvalidOperationException($"receive failed ({n}, errno {errno}, {fdError})");
                Wait(POLLIN);
            }
        }

        private void Wait(short events)
        {
            var fd = new pollfd { fd = _socket.Handle.Value, events = events };
            _ = poll(&fd, 1, 5000);
        }

        public void Dispose()
        {
            _fds.Dispose();
            _socket.Dispose();
        }
    }

    /// <summary>A minimal Wayland client over either transport: the same requests and event handling for both.</summary>
    internal sealed class MiniClient(ITransport transport, WestonCompositor weston) : IDisposable
    {
        private readonly WireWriter _writer = new();
        private readonly byte[] _input = new byte[64 * 1024];
        private readonly HashSet<uint> _done = [];
        private readonly Dictionary<string, (uint Name, uint Version)> _globals = [];
        private readonly bool[] _busy = new bool[2];
        private uint[] _buffers = [];
        private int _inputLength;
        private uint _nextId = 2;
        private uint _registry, _wmBase, _xdgSurface, _surface, _compositor, _shm, _pool;
        private int _next;
        private bool _configured;

        public ITransport Transport => transport;
        public int FrameCallbacks { get; private set; }
        public long PixelBytesCopiedByDevice => transport.PixelBytesCopied;

        private uint NewId() => _nextId++;

        public void Sync()
        {
            uint callback = NewId();
            WlDisplay.Sync(_writer, 1, callback);
            Flush();
            WaitFor(() => _done.Remove(callback));
        }

        public void SetUpWindow()
        {
            _registry = NewId();
            WlDisplay.GetRegistry(_writer, 1, _registry);
            Sync();
            _compositor = Bind(WlCompositor.Info.Name, 4);
            _shm = Bind(WlShm.Info.Name, 1);
            _wmBase = Bind(XdgWmBase.Info.Name, 1);
            _surface = NewId();
            WlCompositor.CreateSurface(_writer, _compositor, _surface);
            _xdgSurface = NewId();
            XdgWmBase.GetXdgSurface(_writer, _wmBase, _xdgSurface, _surface);
            uint toplevel = NewId();
            XdgSurface.GetToplevel(_writer, _xdgSurface, toplevel);
            WlSurface.Commit(_writer, _surface);
            Flush();
            WaitFor(() => _configured);
        }

        private uint Bind(string name, uint version)
        {
            var global = _globals[name];
            uint id = NewId();
            WlRegistry.Bind(_writer, _registry, global.Name, name, version, id);
            return id;
        }

        public void CreatePool(int size, SafeHandle? fd)
        {
            _pool = NewId();
            using var placeholder = File.OpenHandle("/dev/null");
            WlShm.CreatePool(_writer, _shm, _pool, fd ?? placeholder, size);
            _buffers = new uint[2];
            for (int i = 0; i < 2; i++)
            {
                _buffers[i] = NewId();
                WlShmPool.CreateBuffer(_writer, _pool, _buffers[i], i * BufferBytes, Width, Height, Stride, WlShm.Format.Xrgb8888);
            }
            var bytes = _writer.Written.ToArray();
            _writer.Consume(bytes.Length, _writer.FdCount); // sent below, fd by the transport's own means
            transport.Send(bytes, withPool: true, fd);
            Sync();
        }

        /// <summary>The next buffer to draw into: waits for its wl_buffer.release if the compositor still holds it.</summary>
        public int NextBuffer()
        {
            int buffer = _next;
            _next ^= 1;
            WaitFor(() => !_busy[buffer]);
            return buffer;
        }

        public void PresentAndSync(int buffer)
        {
            WlSurface.Attach(_writer, _surface, _buffers[buffer], 0, 0);
            WlSurface.DamageBuffer(_writer, _surface, 0, 0, Width, Height);
            WlSurface.Frame(_writer, _surface, NewId());
            WlSurface.Commit(_writer, _surface);
            _busy[buffer] = true;
            Sync();
        }

        /// <summary>wl_surface.damage requests on the window's surface, as many as fit <paramref name="limit"/> bytes.</summary>
        public byte[] DamageChunk(int limit)
        {
            using var writer = new WireWriter();
            while (writer.Written.Length + 24 <= limit)
                WlSurface.Damage(writer, _surface, 0, 0, 64, 64);
            return writer.Written.ToArray();
        }

        private void Flush()
        {
            var bytes = _writer.Written;
            transport.Send(bytes, withPool: false);
            _writer.Consume(bytes.Length, 0);
        }

        private void WaitFor(Func<bool> condition)
        {
            while (!condition())
            {
                _inputLength += transport.Receive(_input.AsSpan(_inputLength));
                Dispatch();
            }
        }

        private void Dispatch()
        {
            int offset = 0;
            while (WireMessage.TryParse(_input.AsSpan(offset, _inputLength - offset), out var message, out _))
            {
                Handle(message);
                offset += message.Size;
            }
            _input.AsSpan(offset, _inputLength - offset).CopyTo(_input);
            _inputLength -= offset;
            if (_writer.Written.Length > 0)
                Flush();
        }

        private void Handle(WireMessage message)
        {
            var body = message.Body;
            if (message.ObjectId == 1 && message.Opcode == 0)
                throw new InvalidOperationException($"wl_display.error: {Encoding.UTF8.GetString(body[12..])}\n{weston.Log}");
            if (message.ObjectId == _registry && message.Opcode == WlRegistry.Events.Global)
            {
                uint name = BinaryPrimitives.ReadUInt32LittleEndian(body);
                int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(body[4..]);
                string iface = Encoding.UTF8.GetString(body.Slice(8, length - 1));
                uint version = BinaryPrimitives.ReadUInt32LittleEndian(body[(8 + ((length + 3) & ~3))..]);
                _globals[iface] = (name, version);
            }
            else if (message.ObjectId == _wmBase && message.ObjectId != 0)
                XdgWmBase.Pong(_writer, _wmBase, BinaryPrimitives.ReadUInt32LittleEndian(body));
            else if (message.ObjectId == _xdgSurface && message.ObjectId != 0)
            {
                XdgSurface.AckConfigure(_writer, _xdgSurface, BinaryPrimitives.ReadUInt32LittleEndian(body));
                _configured = true;
            }
            else if (_buffers.Length == 2 && (message.ObjectId == _buffers[0] || message.ObjectId == _buffers[1]))
                _busy[message.ObjectId == _buffers[0] ? 0 : 1] = false;
            else if (message.ObjectId > 1 && message.Opcode == 0 && body.Length == 4)
            {
                _done.Add(message.ObjectId); // wl_callback.done (sync or frame)
                if (message.ObjectId != 0)
                    FrameCallbacks++;
            }
        }

        public void Dispose()
        {
            _writer.Dispose();
            transport.Dispose();
        }
    }
}
