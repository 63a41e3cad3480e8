using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace MiniVmm.Machine.Debug;

/// <summary>
/// --gdb [HOST:]PORT: a TCP listener for gdb's `target remote`, bound when the options are checked (so a
/// port in use is a usage error before anything boots), served by one background thread, one connection at
/// a time. The machine owns it once <see cref="Start"/> is called and disposes it when it stops.
/// </summary>
public sealed class GdbServer : IDisposable
{
    private readonly TcpListener _listener;
    private Socket? _connection;

    private GdbServer(TcpListener listener, bool waitForAttach)
    {
        _listener = listener;
        WaitForAttach = waitForAttach;
    }

    /// <summary>--gdb-wait: the vCPUs stay parked before their first instruction until gdb continues them.</summary>
    public bool WaitForAttach { get; }

    public IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Binds the endpoint (port 0 picks a free one).</summary>
    /// <exception cref="SocketException">The port cannot be bound (in use, not allowed).</exception>
    public static GdbServer Listen(IPEndPoint endpoint, bool waitForAttach)
    {
        var listener = new TcpListener(endpoint);
        listener.Start(1);
        return new GdbServer(listener, waitForAttach);
    }

    /// <summary>[HOST:]PORT: HOST is localhost (the default) or an IP address.</summary>
    /// <exception cref="FormatException">The text is not [HOST:]PORT.</exception>
    public static IPEndPoint ParseEndpoint(string text)
    {
        int colon = text.LastIndexOf(':');
        string host = colon < 0 ? "" : text[..colon];
        string port = text[(colon + 1)..];
        if (!ushort.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out ushort number))
            throw new FormatException($"--gdb '{text}': the port must be a number from 0 to 65535");
        if (host.StartsWith('[') && host.EndsWith(']'))
            host = host[1..^1];
        IPAddress? address = host is "" or "localhost" ? IPAddress.Loopback : IPAddress.TryParse(host, out var parsed) ? parsed : null;
        return address is null
            ? throw new FormatException($"--gdb '{text}': the host must be localhost or an IP address")
            : new IPEndPoint(address, number);
    }

    /// <summary>Attaches the debugger to the machine's vCPUs (before they run) and starts accepting gdb.</summary>
    public void Start(VirtualMachine machine, TextWriter diagnostics)
    {
        var debugger = new GuestDebugger(machine.VcpuThreads, machine.Memory, WaitForAttach, machine.Tracer);
        machine.Stopped.ContinueWith(_ => debugger.Release(), TaskScheduler.Default);
        diagnostics.WriteLine($"minivmm: gdb stub on {Endpoint} ({(WaitForAttach ? "the guest waits for gdb to continue" : "gdb stops the guest when it connects")})");
        new Thread(() => Serve(debugger, machine, diagnostics)) { Name = "gdb", IsBackground = true }.Start();
    }

    private void Serve(GuestDebugger debugger, IMachineControl control, TextWriter diagnostics)
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = _listener.AcceptSocket();
            }
            catch (Exception error) when (error is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return; // disposed: the machine stopped
            }
            socket.NoDelay = true;
            Volatile.Write(ref _connection, socket);
            try
            {
                using var stream = new NetworkStream(socket, ownsSocket: true);
                new GdbSession(new GdbPacketStream(stream), socket, debugger, control).Run();
            }
            catch (Exception error) when (!debugger.Released)
            {
                // A host failure while serving gdb (a refused ioctl): say so, and let the guest run on without gdb.
                diagnostics.WriteLine($"minivmm: gdb stub: {error.Message}; the guest runs on without gdb");
                debugger.Detach();
            }
            catch (Exception)
            {
                // The machine stopped under the session (its vCPUs are being closed): nothing left to serve.
            }
            if (debugger.Released)
                return;
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        Volatile.Read(ref _connection)?.Dispose();
    }
}
