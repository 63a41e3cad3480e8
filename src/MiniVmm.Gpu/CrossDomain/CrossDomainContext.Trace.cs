using MiniVmm.Wayland;

namespace MiniVmm.Gpu.CrossDomain;

// --trace xdomain: one line per command and per message written to a ring, then the Wayland messages in it.
public sealed partial class CrossDomainContext
{
    private readonly Action<string>? _tracer;
    private WaylandTraceDecoder? _decoder;

    private void TraceCommand(CrossDomainCommand command, ReadOnlySpan<byte> stream, string? error)
    {
        if (_tracer is not { } trace)
            return;
        var result = error is null ? "" : " -> " + error;
        switch (command)
        {
            case CrossDomainInitCommand init:
                trace($"xdomain ctx {Id} INIT query_ring={init.QueryRingId} channel_ring={init.ChannelRingId} channel_type={init.ChannelType}{result}");
                break;
            case CrossDomainGetImageRequirementsCommand query:
                trace($"xdomain ctx {Id} GET_IMAGE_REQUIREMENTS {query.Width}x{query.Height} format=0x{query.DrmFormat:x}{result}");
                break;
            case CrossDomainPollCommand:
                trace($"xdomain ctx {Id} POLL{result}");
                break;
            case CrossDomainSendCommand send:
                var data = send.DataIn(stream);
                trace($"xdomain ctx {Id} SEND {data.Length} bytes ids=[{string.Join(',', send.Identifiers.Select(i => $"{i.Id}:{(CrossDomainIdType)i.Type}"))}]{result}");
                TraceWayland(MessageDirection.Request, data, "SEND");
                break;
            case CrossDomainWriteCommand write:
                trace($"xdomain ctx {Id} WRITE pipe={write.Identifier} {write.DataIn(stream).Length} bytes hang_up={(write.HangUp ? 1 : 0)}{result}");
                break;
            default:
                trace($"xdomain ctx {Id} {command.Cmd}{result}");
                break;
        }
    }

    private void TraceReceive(ReadOnlySpan<byte> data, List<(uint Id, uint Type, ulong Size)> identifiers)
    {
        if (_tracer is not { } trace)
            return;
        trace($"xdomain ctx {Id} RECEIVE {data.Length} bytes ids=[{string.Join(',', identifiers.Select(i => $"{i.Id}:{(CrossDomainIdType)i.Type}:{i.Size}"))}]");
        TraceWayland(MessageDirection.Event, data, "RECEIVE");
    }

    private void TraceLine(string what) => _tracer?.Invoke($"xdomain ctx {Id} {what}");

    private void TraceWayland(MessageDirection direction, ReadOnlySpan<byte> data, string verb)
    {
        _decoder ??= new WaylandTraceDecoder();
        _decoder.Decode(direction, data, $"xdomain ctx {Id} {verb} ", _tracer!);
    }
}
