using MiniVmm.GuestProxy;
using MiniVmm.GuestProxy.Drm;

// minivmm-guest-proxy --socket PATH [--device /dev/dri/card0] [--channel N]
// --channel: the cross-domain channel type INIT asks for: 1 (default) the host's unnamed compositor socket, 20..31 a named
// one (the guest reads NAME:N pairs from minivmm.wayland_channels on /proc/cmdline).
// On the host, tools/MiniVmm.ProxyHost (minivmm-proxy-host) runs this proxy against MiniVmm's device model instead.
if (ProxyCommandLine.Parse("minivmm-guest-proxy", args, "--socket", "--device") is not { } line)
    return 2;
if (line["--socket"] is not { } socketPath)
{
    Console.Error.WriteLine("usage: minivmm-guest-proxy --socket PATH [--device DRM] [--channel N]");
    return 2;
}
var device = line["--device"] ?? "/dev/dri/card0";
var channel = line.Channel;

void Log(string text) => Console.Error.WriteLine("minivmm-guest-proxy: " + text);
// Says which side of the protocol this proxy talks to (the guest end-to-end test checks it is the DRM driver).
Log($"transport: DRM {device}, cross-domain channel {channel}");
WaylandProxy.ServeUntilSignalled(socketPath, () => new DrmCrossDomainTransport(device, channel), Log);
return 0;
