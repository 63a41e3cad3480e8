using MiniVmm.Gpu;
using MiniVmm.GuestProxy;
using MiniVmm.ProxyHost;

// minivmm-proxy-host --socket PATH --wayland-socket PATH [--channel N]
// The guest proxy on the host: it listens on --socket as in a guest, and each client's cross-domain context lives on
// MiniVmm's device model in this process (one device per client, driven as Linux's virtio_gpu driver drives it),
// which reaches the compositor at --wayland-socket. --channel: the channel type INIT asks for (1, the default).
if (ProxyCommandLine.Parse("minivmm-proxy-host", args, "--socket", "--wayland-socket") is not { } line)
    return 2;
if (line["--socket"] is not { } socketPath || line["--wayland-socket"] is not { } compositor)
{
    Console.Error.WriteLine("usage: minivmm-proxy-host --socket PATH --wayland-socket PATH [--channel N]");
    return 2;
}
var channel = line.Channel;

void Log(string text) => Console.Error.WriteLine("minivmm-proxy-host: " + text);
Log($"transport: in-process device model, compositor {compositor}, channel {channel}");
WaylandProxy.ServeUntilSignalled(socketPath, () => new InProcessCrossDomainTransport(CompositorSockets.Only(compositor), channel), Log);
return 0;
