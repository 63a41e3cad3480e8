using MiniVmm.CrossDomain;
using MiniVmm.Gpu;
using MiniVmm.GuestProxy.Drm;
using MiniVmm.GuestProxy.Tests.Drm;
using MiniVmm.ProxyHost;
using MiniVmm.Wayland.Tests.Support;

namespace MiniVmm.GuestProxy.Tests;

/// <summary>
/// The whole chain on the host: a private headless Weston, and the proxy listening in Weston's runtime directory with
/// the in-process transport (MiniVmm's device model in this process) in front of it. The proxy's log is kept for
/// assertion messages.
/// </summary>
internal sealed class ProxyFixture : IDisposable
{
    private readonly List<string> _log = [];
    private readonly CompositorSockets _sockets;
    private readonly uint _channel;
    private readonly bool _overDrm;

    /// <param name="shell">kiosk-shell for protocol checks; desktop-shell where a screenshot must show a window on
    /// the known background colour.</param>
    /// <param name="backend">X11 where a test needs a seat (keyboard, keymap).</param>
    /// <param name="named">Configure Weston as the only, named, socket (--wayland-socket PATH,name=weston: channel 20)
    /// and have the proxy INIT on that channel, instead of the unnamed socket on channel 1.</param>
    /// <param name="overDrm">Give each client the guest's DRM transport over a model of the kernel driver
    /// (<see cref="FakeVirtioGpuDrm"/>) instead of the in-process transport.</param>
    public ProxyFixture(string shell = "kiosk-shell.so", int width = 320, int height = 240,
        WestonBackend backend = WestonBackend.Headless, bool named = false, bool overDrm = false)
    {
        _overDrm = overDrm;
        Weston = WestonCompositor.Start(width, height, shell, backend: backend);
        SocketPath = Path.Combine(Weston.RuntimeDirectory, "proxy-0");
        string[] sockets = [named ? $"{Weston.SocketPath},name=weston" : Weston.SocketPath];
        Assert.True(CompositorSockets.TryParse(sockets, () => null, out var configured, out string? error), error);
        _sockets = configured;
        _channel = named ? CompositorSockets.FirstNamedChannel : CrossDomainConstants.ChannelTypeWayland;
        Proxy = new WaylandProxy(SocketPath, NewTransport, Add);
    }

    /// <summary>Every client's transport, in connection order (a test can look at its device's resources).</summary>
    public List<InProcessCrossDomainTransport> Transports { get; } = [];

    /// <summary>With overDrm: every client's model of the DRM file, in connection order.</summary>
    public List<FakeVirtioGpuDrm> DrmFiles { get; } = [];

    public WestonCompositor Weston { get; }
    public WaylandProxy Proxy { get; }
    public string SocketPath { get; }

    /// <summary>The proxy's own lines only (no Weston log), for "no errors" checks.</summary>
    public string ProxyLog
    {
        get
        {
            lock (_log)
                return string.Join('\n', _log);
        }
    }

    public string Log
    {
        get
        {
            lock (_log)
                return string.Join('\n', _log) + "\n--- weston ---\n" + Weston.Log;
        }
    }

    public void Dispose()
    {
        Proxy.Dispose();
        Weston.Dispose();
    }

    private ICrossDomainTransport NewTransport()
    {
        if (_overDrm)
        {
            var file = new FakeVirtioGpuDrm(_sockets);
            lock (DrmFiles)
                DrmFiles.Add(file);
            return new DrmCrossDomainTransport(file, FakeVirtioGpuDrm.DevicePath, _channel);
        }
        var transport = new InProcessCrossDomainTransport(_sockets, _channel);
        lock (Transports)
            Transports.Add(transport);
        return transport;
    }

    private void Add(string line)
    {
        lock (_log)
            _log.Add(line);
    }
}
