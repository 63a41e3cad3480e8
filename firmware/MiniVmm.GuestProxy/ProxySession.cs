using MiniVmm.Gpu.CrossDomain;
using MiniVmm.GuestProxy.Native;
using MiniVmm.Wayland;

namespace MiniVmm.GuestProxy;

/// <summary>
/// One Wayland client and its cross-domain context. Two threads, because each side blocks differently: one waits
/// on the client socket and turns bytes into SENDs, the other waits on POLL fences and turns RECEIVEs into bytes
/// (and compositor fds, arriving as blob ids, into fds). Either side ending ends both; every wait is bounded so the
/// threads notice within <see cref="Tick"/>.
/// </summary>
internal sealed class ProxySession(int number, Fd client, ICrossDomainTransport transport, Action<string> log)
{
    private const int Tick = 100; // ms
    private static readonly TimeSpan ClientWriteTimeout = TimeSpan.FromSeconds(5);
    private volatile bool _stopping;
    private Thread? _toClient, _toHost;

    public bool Finished => _toClient is { IsAlive: false } && _toHost is { IsAlive: false };

    public void Start()
    {
        _toHost = new Thread(Run) { IsBackground = true, Name = $"proxy-{number}-send" };
        _toHost.Start();
    }

    public void Stop()
    {
        _stopping = true;
        _toHost?.Join();
    }

    private void Run()
    {
        try
        {
            transport.Connect();
            _toClient = new Thread(RelayToClient) { IsBackground = true, Name = $"proxy-{number}-receive" };
            _toClient.Start();
            RelayToHost();
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or TimeoutException or InvalidDataException)
        {
            log($"client {number}: {e.Message}; closing it");
        }
        _stopping = true;
        _toClient?.Join();
        transport.Dispose();
        client.Dispose();
        log($"client {number}: closed");
    }

    /// <summary>Client bytes → SEND, a page at a time. A message with fds is refused (see the remark in the log).</summary>
    private void RelayToHost()
    {
        var buffer = new byte[CrossDomainWire.MaxSendData];
        var fds = new List<Fd>();
        while (!_stopping)
        {
            if (!ProxySocket.WaitReadable(client, Tick))
                continue;
            var read = ProxySocket.Receive(client, buffer, fds, out var error);
            if (fds.Count > 0)
            {
                // Client fds (wl_shm pools, pipes) need guest blobs and copy-on-commit: the next slice. Refusing
                // the whole client is cleaner than forwarding a message whose fd the compositor would never get.
                log($"client {number}: sent {fds.Count} fd(s), which this proxy does not forward yet (wl_shm pools); closing it");
                fds.ForEach(fd => fd.Dispose());
                return;
            }
            if (read == 0 || (read < 0 && error != Tmds.Linux.LibC.EAGAIN))
                return; // hung up (or failed): the compositor side is closed with the context
            if (read > 0)
                transport.Send(buffer.AsSpan(0, read), []);
        }
    }

    /// <summary>POLL fences → client bytes. Blob identifiers become fds in SCM_RIGHTS, in identifier order.</summary>
    private void RelayToClient()
    {
        try
        {
            while (!_stopping)
            {
                var message = transport.Receive(TimeSpan.FromMilliseconds(Tick));
                if (message is null || message.Command != (byte)CrossDomainCmd.Receive)
                    continue; // timeout, or a READ for a pipe this slice never makes
                if (message.IsHangUp)
                {
                    log($"client {number}: the compositor hung up");
                    break;
                }
                Deliver(message);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or TimeoutException or InvalidDataException)
        {
            log($"client {number}: {e.Message}; closing it");
        }
        _stopping = true;
    }

    private void Deliver(CrossDomainReceived message)
    {
        var fds = new List<Fd>();
        try
        {
            foreach (var id in message.Identifiers)
            {
                if (id.Type != (uint)CrossDomainIdType.VirtgpuBlob)
                    throw new InvalidOperationException($"identifier type {id.Type} (a compositor pipe) is not handled yet");
                fds.Add(transport.OpenHostBlob(id.Id, id.Size));
            }
            var numbers = fds.Select(fd => fd.Value).ToArray();
            ProxySocket.SendAll(client, message.Data, numbers, ClientWriteTimeout);
        }
        finally
        {
            fds.ForEach(fd => fd.Dispose()); // the kernel gave the client its own copies
        }
    }
}
