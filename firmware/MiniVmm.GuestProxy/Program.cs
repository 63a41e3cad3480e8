using MiniVmm.CrossDomain;
using MiniVmm.GuestProxy;
using MiniVmm.GuestProxy.Drm;

// minivmm-guest-proxy --socket PATH [--device /dev/dri/card0] [--channel N]
// --channel: the cross-domain channel type INIT asks for: 1 (default) the host's unnamed compositor socket, 20..31 a named
// one (the guest reads NAME:N pairs from minivmm.wayland_channels on /proc/cmdline).
// On the host, tools/MiniVmm.ProxyHost (minivmm-proxy-host) runs this proxy against MiniVmm's device model instead.
string? socketPath = null;
var device = "/dev/dri/card0";
uint channel = CrossDomainConstants.ChannelTypeWayland;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--socket" when i + 1 < args.Length: socketPath = args[++i]; break;
        case "--device" when i + 1 < args.Length: device = args[++i]; break;
        case "--channel" when i + 1 < args.Length && uint.TryParse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture, out channel): i++; break;
        default:
            Console.Error.WriteLine($"minivmm-guest-proxy: unknown argument {args[i]}");
            return 2;
    }
}
if (socketPath is null)
{
    Console.Error.WriteLine("usage: minivmm-guest-proxy --socket PATH [--device DRM] [--channel N]");
    return 2;
}

void Log(string line) => Console.Error.WriteLine("minivmm-guest-proxy: " + line);
// Says which side of the protocol this proxy talks to (the guest end-to-end test checks it is the DRM driver).
Log($"transport: DRM {device}, cross-domain channel {channel}");
WaylandProxy.ServeUntilSignalled(socketPath, () => new DrmCrossDomainTransport(device, channel), Log);
return 0;
