using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Wayland;

namespace MiniVmm.Gpu.Winsrv;

// --trace winsrv: one line per CONNECT/DISCONNECT/TX/RX, then the Wayland messages a TX or RX carries.
public sealed partial class WinsrvFrontend
{
    private readonly Action<string>? _winsrvTrace;

    private void TraceWinsrv(string line) => _winsrvTrace?.Invoke("winsrv " + line);

    private void TraceWayland(WinsrvConnection connection, MessageDirection direction, ReadOnlySpan<byte> data)
    {
        if (_winsrvTrace is not { } trace)
            return;
        connection.Decoder ??= new WaylandTraceDecoder();
        connection.Decoder.Decode(direction, data, $"winsrv fd {connection.Id} {(direction == MessageDirection.Request ? "TX" : "RX")} ", trace);
    }
}
