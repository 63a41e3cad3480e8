using MiniVmm.GuestProxy;
using MiniVmm.GuestProxy.Drm;
using MiniVmm.GuestProxy.InProcess;

// minivmm-guest-proxy --socket PATH [--device /dev/dri/card0]           (in the guest)
// minivmm-guest-proxy --socket PATH --in-process --wayland-socket PATH  (on the host: MiniVmm's device model in-process)
string? socketPath = null, compositor = null, device = "/dev/dri/card0";
var inProcess = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--socket" when i + 1 < args.Length: socketPath = args[++i]; break;
        case "--device" when i + 1 < args.Length: device = args[++i]; break;
        case "--wayland-socket" when i + 1 < args.Length: compositor = args[++i]; break;
        case "--in-process": inProcess = true; break;
        default:
            Console.Error.WriteLine($"minivmm-guest-proxy: unknown argument {args[i]}");
            return 2;
    }
}
if (socketPath is null || (inProcess && compositor is null))
{
    Console.Error.WriteLine("usage: minivmm-guest-proxy --socket PATH [--device DRM] | [--in-process --wayland-socket PATH]");
    return 2;
}

void Log(string line) => Console.Error.WriteLine("minivmm-guest-proxy: " + line);
Func<ICrossDomainTransport> transports = inProcess ? () => new InProcessCrossDomainTransport(compositor!) : () => new DrmCrossDomainTransport(device);
using var stop = new ManualResetEventSlim();
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
using (new WaylandProxy(socketPath, transports, Log))
    stop.Wait();
return 0;
