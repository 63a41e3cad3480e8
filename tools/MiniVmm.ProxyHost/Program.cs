using MiniVmm.CrossDomain;
using MiniVmm.Gpu;
using MiniVmm.GuestProxy;
using MiniVmm.ProxyHost;

// minivmm-proxy-host --socket PATH --wayland-socket PATH [--channel N]
// The guest proxy on the host: it listens on --socket as in a guest, and each client's cross-domain context lives on
// MiniVmm's device model in this process (one device per client, driven as Linux's virtio_gpu driver drives it),
// which reaches the compositor at --wayland-socket. --channel: the channel type INIT asks for (1, the default).
string? socketPath = null, compositor = null;
uint channel = CrossDomainConstants.ChannelTypeWayland;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--socket" when i + 1 < args.Length: socketPath = args[++i]; break;
        case "--wayland-socket" when i + 1 < args.Length: compositor = args[++i]; break;
        case "--channel" when i + 1 < args.Length && uint.TryParse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture, out channel): i++; break;
        default:
            Console.Error.WriteLine($"minivmm-proxy-host: unknown argument {args[i]}");
            return 2;
    }
}
if (socketPath is null || compositor is null)
{
    Console.Error.WriteLine("usage: minivmm-proxy-host --socket PATH --wayland-socket PATH [--channel N]");
    return 2;
}

void Log(string line) => Console.Error.WriteLine("minivmm-proxy-host: " + line);
Log($"transport: in-process device model, compositor {compositor}, channel {channel}");
WaylandProxy.ServeUntilSignalled(socketPath, () => new InProcessCrossDomainTransport(CompositorSockets.Only(compositor), channel), Log);
return 0;
