using System.Runtime.InteropServices;
using MiniVmm.GuestProxy.Native;
using MiniVmm.Wayland;

namespace MiniVmm.GuestProxy;

/// <summary>
/// The guest's Wayland socket ($XDG_RUNTIME_DIR/wayland-0): each accepted client gets a fresh transport (one
/// cross-domain context) and a <see cref="ProxySession"/>. Dispose stops accepting, ends every session and removes
/// the socket file.
/// </summary>
public sealed class WaylandProxy : IDisposable
{
    private readonly string _path;
    private readonly Fd _listener;
    private readonly Func<ICrossDomainTransport> _transports;
    private readonly Action<string> _log;
    private readonly List<ProxySession> _sessions = [];
    private readonly Thread _acceptor;
    private volatile bool _stopping;
    private int _clients;

    public WaylandProxy(string socketPath, Func<ICrossDomainTransport> transports, Action<string> log)
    {
        _path = socketPath;
        _transports = transports;
        _log = log;
        _listener = ProxySocket.Listen(socketPath);
        _acceptor = new Thread(Accept) { IsBackground = true, Name = "proxy-accept" };
        _acceptor.Start();
        log($"listening on {socketPath}");
    }

    /// <summary>
    /// Serves <paramref name="socketPath"/> until SIGTERM or SIGINT, then ends every session and removes the socket:
    /// the body of both programs, the guest's (DRM) and the host tool's (MiniVmm's device model in-process).
    /// </summary>
    public static void ServeUntilSignalled(string socketPath, Func<ICrossDomainTransport> transports, Action<string> log)
    {
        using var stop = new ManualResetEventSlim();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
        using (new WaylandProxy(socketPath, transports, log))
            stop.Wait();
    }

    /// <summary>Clients accepted so far.</summary>
    public int Clients => _clients;

    public void Dispose()
    {
        _stopping = true;
        _acceptor.Join();
        lock (_sessions)
            _sessions.ForEach(session => session.Stop());
        _listener.Dispose();
        File.Delete(_path);
    }

    private void Accept()
    {
        while (!_stopping)
        {
            if (!ProxySocket.WaitReadable(_listener, 100) || ProxySocket.Accept(_listener) is not { } client)
                continue;
            var number = Interlocked.Increment(ref _clients);
            _log($"client {number}: connected");
            var session = new ProxySession(number, client, _transports(), _log);
            lock (_sessions)
            {
                _sessions.RemoveAll(s => s.Finished);
                _sessions.Add(session);
            }
            session.Start();
        }
    }
}
