using System.Diagnostics;
using System.IO.Pipes;
using Microsoft.Win32.SafeHandles;
using MiniVmm.CrossDomain;
using MiniVmm.Gpu;
using MiniVmm.GuestProxy.Native;
using MiniVmm.ProxyHost;
using MiniVmm.Wayland;

namespace MiniVmm.GuestProxy.Tests.Pipes;

/// <summary>
/// The proxy in front of a compositor stand-in the test drives by hand: a plain listening Unix socket, so a test can
/// send and receive any bytes and fds. Clients connect to <see cref="ProxyPath"/>; each one's device connection
/// arrives at the stand-in (<see cref="AcceptCompositorSide"/>).
/// </summary>
internal sealed class ScriptedChain : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly string _directory = Directory.CreateTempSubdirectory("minivmm-pipes-").FullName;
    private readonly Fd _compositor;
    private readonly List<string> _log = [];

    public ScriptedChain()
    {
        _compositor = ProxySocket.Listen(Path.Combine(_directory, "compositor"));
        ProxyPath = Path.Combine(_directory, "proxy");
        Proxy = new WaylandProxy(ProxyPath, NewTransport, Add);
    }

    /// <summary>Every client's transport, in connection order, with the identifiers of each SEND it made.</summary>
    public List<RecordingTransport> Transports { get; } = [];

    public string ProxyPath { get; }
    public WaylandProxy Proxy { get; }

    public string Log
    {
        get
        {
            lock (_log)
                return string.Join('\n', _log);
        }
    }

    /// <summary>A client on the proxy and the stand-in's end of its context's compositor connection.</summary>
    public (UnixSocket Client, Fd Compositor) Connect()
    {
        var client = UnixSocket.Connect(ProxyPath);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Timeout)
        {
            if (ProxySocket.WaitReadable(_compositor, 100) && ProxySocket.Accept(_compositor) is { } compositor)
                return (client, compositor);
        }
        client.Dispose();
        throw new TimeoutException("the device never connected to the stand-in compositor\n" + Log);
    }

    private RecordingTransport NewTransport()
    {
        var transport = new RecordingTransport(new InProcessCrossDomainTransport(
            CompositorSockets.Only(Path.Combine(_directory, "compositor")), CrossDomainConstants.ChannelTypeWayland));
        lock (Transports)
            Transports.Add(transport);
        return transport;
    }

    public void Dispose()
    {
        Proxy.Dispose();
        _compositor.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Reads from <paramref name="socket"/> until <paramref name="length"/> bytes came (bounded); the fds that came with them.</summary>
    public static (byte[] Data, List<Fd> Fds) Receive(Fd socket, int length)
    {
        var data = new List<byte>();
        var fds = new List<Fd>();
        var buffer = new byte[4096];
        var clock = Stopwatch.StartNew();
        while (data.Count < length)
        {
            if (clock.Elapsed > Timeout)
                throw new TimeoutException($"{data.Count} of {length} bytes came");
            if (!ProxySocket.WaitReadable(socket, 100))
                continue;
            var read = ProxySocket.Receive(socket, buffer, fds, out _);
            if (read == 0)
                throw new IOException($"hung up after {data.Count} of {length} bytes");
            if (read > 0)
                data.AddRange(buffer.AsSpan(0, read));
        }
        return ([.. data], fds);
    }

    /// <summary>Sends what <paramref name="writer"/> holds, its fds with it; the writer then lets go of them.</summary>
    public static void Send(Fd socket, WireWriter writer)
    {
        var fds = new int[writer.FdCount];
        for (var i = 0; i < fds.Length; i++)
            fds[i] = (int)writer.GetFd(i).DangerousGetHandle();
        ProxySocket.SendAll(socket, writer.Written, fds, Timeout);
        writer.Consume(writer.Written.Length, fds.Length); // the writer holds a reference that keeps each fd open
    }

    /// <summary>True when <paramref name="socket"/> reads end-of-file within the timeout (what it sends meanwhile is dropped).</summary>
    public static bool HangsUp(Fd socket)
    {
        var fds = new List<Fd>();
        var buffer = new byte[4096];
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Timeout)
        {
            if (ProxySocket.WaitReadable(socket, 100) && ProxySocket.Receive(socket, buffer, fds, out _) == 0)
                return true;
        }
        return false;
    }

    /// <summary>Everything up to end-of-file from a pipe's read end, bounded; null when it never ended.</summary>
    public static byte[]? ReadToEnd(AnonymousPipeServerStream readEnd)
    {
        using var poll = new Fd((int)readEnd.SafePipeHandle.DangerousGetHandle(), ownsHandle: false);
        var data = new MemoryStream();
        var buffer = new byte[8192];
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Timeout)
        {
            if (!ProxySocket.WaitReadable(poll, 100))
                continue;
            var read = readEnd.Read(buffer);
            if (read == 0)
                return data.ToArray();
            data.Write(buffer, 0, read);
        }
        return null;
    }

    /// <summary>Writes <paramref name="data"/> into a received pipe write end and closes it (also when the write fails).</summary>
    public static void WriteAndClose(Fd writeEnd, byte[] data)
    {
        using (writeEnd)
        using (var stream = new FileStream(new SafeFileHandle(writeEnd.DangerousGetHandle(), ownsHandle: false), FileAccess.Write, bufferSize: 0))
            stream.Write(data);
    }

    /// <summary>Runs a blocking <paramref name="action"/> on a thread of its own: false when it is still blocked after the timeout.</summary>
    public static bool Finishes(Action action, out Exception? failure)
    {
        Exception? caught = null;
        var thread = new Thread(() =>
        {
            try
            {
                action();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                caught = e;
            }
        }) { IsBackground = true };
        thread.Start();
        var finished = thread.Join(Timeout);
        failure = caught;
        return finished;
    }

    /// <summary>Open fds of this process and what each is: proxy, device model, stand-in and clients all live here.</summary>
    public static Dictionary<string, string> OpenFds() =>
        Directory.GetFiles("/proc/self/fd").ToDictionary(path => Path.GetFileName(path), path => new FileInfo(path).LinkTarget ?? "?");

    /// <summary>What an fd is, as /proc names it ("pipe:[…]", "/memfd:… (deleted)", "socket:[…]").</summary>
    public static string Kind(Fd fd) => new FileInfo($"/proc/self/fd/{fd.Value}").LinkTarget ?? "";

    public static byte[] Payload(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private void Add(string line)
    {
        lock (_log)
            _log.Add(line);
    }
}
