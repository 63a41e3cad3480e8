using MiniVmm.GuestProxy;
using MiniVmm.GuestProxy.Drm;
using MiniVmm.GuestProxy.InProcess;

// minivmm-guest-proxy --socket PATH [--device /dev/dri/card0] [--channel N]  (in the guest)
// minivmm-guest-proxy --socket PATH --in-process --wayland-socket PATH      (on the host: MiniVmm's device model in-process)
// --channel: the cross-domain channel type INIT asks for: 1 (default) the host's unnamed compositor socket, 20..31 a named
// one (the guest reads NAME:N pairs from minivmm.wayland_channels on /proc/cmdline).
string? socketPath = null, compositor = null, device = "/dev/dri/card0";
var inProcess = false;
uint channel = MiniVmm.Gpu.CrossDomain.CrossDomainConstants.ChannelTypeWayland;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--socket" when i + 1 < args.Length: socketPath = args[++i]; break;
        case "--device" when i + 1 < args.Length: device = args[++i]; break;
        case "--wayland-socket" when i + 1 < args.Length: compositor = args[++i]; break;
        case "--in-process": inProcess = true; break;
        case "--channel" when i + 1 < args.Length && uint.TryParse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture, out channel): i++; break;
        default:
            Console.Error.WriteLine($"minivmm-guest-proxy: unknown argument {args[i]}");
            return 2;
    }
}
if (socketPath is null || (inProcess && compositor is null))
{
    Console.Error.WriteLine("usage: minivmm-guest-proxy --socket PATH [--device DRM] [--channel N] | [--in-process --wayland-socket PATH]");
    return 2;
}

void Log(string line) => Console.Error.WriteLine("minivmm-guest-proxy: " + line);
Func<ICrossDomainTransport> transports = inProcess
    ? () => new InProcessCrossDomainTransport(MiniVmm.Gpu.CompositorSockets.Only(compositor), channel)
    : () => new DrmCrossDomainTransport(device, channel);
// Says which side of the protocol this proxy talks to (the guest end-to-end test checks it is the DRM driver).
Log(inProcess ? $"transport: in-process device model, compositor {compositor}, channel {channel}"
    : $"transport: DRM {device}, cross-domain channel {channel}");
using var stop = new ManualResetEventSlim();
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
using (new WaylandProxy(socketPath, transports, Log))
    stop.Wait();
return 0;
