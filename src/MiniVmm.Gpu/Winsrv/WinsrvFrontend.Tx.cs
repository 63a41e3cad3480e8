using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Virtio;
using MiniVmm.Virtio.Queue;

namespace MiniVmm.Gpu.Winsrv;

// The tx queue: {hdr, fd, len, resource_ids[28], data[len]} in the readable part; a 24-byte response header (OK_NODATA
// or an error) in the writable part when there is room. A TX without writable space is still served: a response
// is an acknowledgement the guest may choose not to take.
public sealed partial class WinsrvFrontend
{
    private void ServeTxLocked(Virtqueue tx, IVirtioInterrupt interrupt)
    {
        bool returned = false;
        bool sent = false;
        while (true)
        {
            var chain = PopLocked(tx, _numbers.TxQueueIndex, interrupt, ref returned, out bool stop);
            if (chain is not null)
            {
                var response = HandleTx(chain, out var request, out string fields);
                sent |= !response.IsError;
                _tracer?.Invoke($"winsrv TX {fields} -> {response.Name}{(response.Detail is null ? "" : $" ({response.Detail})")}");
                TraceWinsrv($"TX {fields} -> {response.Name}{(response.Detail is null ? "" : $" ({response.Detail})")}");
                uint written = WriteResponse(chain.CreateWriter(), in request, response.Type);
                returned |= ReturnLocked(tx, _numbers.TxQueueIndex, chain.HeadIndex, written, interrupt, ref stop);
            }
            if (stop)
                break;
        }
        if (returned && tx.NeedsNotification())
            interrupt.SignalQueue(_numbers.TxQueueIndex);
        // Without an event loop the reply to what was just sent is only picked up here (or by the host's Pump); with
        // one, TX bytes the compositor did not take yet need a write watch.
        if (sent && _loop is null)
            PumpLocked();
        else if (sent)
            UpdateWatchesLocked();
    }

    private GpuResponse HandleTx(DescriptorChain chain, out VirtioGpuCtrlHdr request, out string fields)
    {
        var reader = chain.CreateReader();
        request = default;
        fields = $"({reader.Remaining} bytes)";
        if (!reader.TryRead(out WinsrvTx tx))
            return GpuResponse.ErrUnspec($"TX of {reader.Remaining} bytes is shorter than the {WinsrvTx.Size}-byte header");
        request = tx.Hdr;
        fields = $"fd={tx.Fd} len={tx.Len}";
        if (tx.Hdr.Type != _numbers.CmdTx)
            return GpuResponse.ErrUnspec($"command 0x{tx.Hdr.Type:x} on the tx queue is not TX");
        if (tx.Len > (uint)_numbers.MaxData)
            return GpuResponse.ErrInvalidParameter($"len {tx.Len} is more than {_numbers.MaxData}");
        if (tx.Len > reader.Remaining)
            return GpuResponse.ErrInvalidParameter($"len {tx.Len} runs past the {reader.Remaining} data bytes in the chain");
        if (!_connections.TryGetValue(tx.Fd, out var connection))
            return GpuResponse.ErrInvalidParameter($"no connection {tx.Fd}");
        if (connection.Finished || connection.Channel.IsHungUp)
            return GpuResponse.ErrUnspec($"connection {tx.Fd}: the compositor hung up");
        var identifiers = new List<(uint Id, uint Type)>();
        for (int i = 0; i < WinsrvTx.MaxResourceIds; i++)
        {
            uint id = tx.ResourceIds[i];
            if (id == 0)
                continue; // 0 means an unused slot, wherever it is
            if (i >= _numbers.MaxAllocs)
                return GpuResponse.ErrInvalidParameter($"resource id in slot {i}: at most {_numbers.MaxAllocs} are allowed");
            identifiers.Add((id, (uint)CrossDomainIdType.VirtgpuBlob));
        }
        fields += $" ids=[{string.Join(',', identifiers.Select(x => x.Id))}]";
        var data = new byte[tx.Len];
        if (!reader.TryReadBytes(data))
            return GpuResponse.ErrUnspec("TX data could not be read"); // checked above; guest memory changed under us
        TraceWayland(connection, Wayland.MessageDirection.Request, data);
        var error = connection.Channel.Send(data, [.. identifiers]);
        return error switch
        {
            CrossDomainChannelError.None => GpuResponse.OkNoData,
            CrossDomainChannelError.UnknownResource when _resources.LastRefusal.OutOfMemory => GpuResponse.ErrOutOfMemory(_resources.LastRefusal.Reason ?? "no host memory"),
            CrossDomainChannelError.UnknownResource => GpuResponse.Err(VirtioGpuCtrlType.RESP_ERR_INVALID_RESOURCE_ID,
                _resources.LastRefusal.Reason ?? "a resource id names nothing with a memfd to pass"),
            _ => GpuResponse.ErrUnspec($"channel: {error}"),
        };
    }

    /// <summary>The response header, echoing a fence like the control queue does; 0 when there is no room.</summary>
    private static uint WriteResponse(DescriptorChainWriter writer, in VirtioGpuCtrlHdr request, VirtioGpuCtrlType type)
    {
        var hdr = new VirtioGpuCtrlHdr { Type = (uint)type };
        if ((request.Flags & VirtioGpuConstants.VIRTIO_GPU_FLAG_FENCE) != 0)
        {
            hdr.Flags = VirtioGpuConstants.VIRTIO_GPU_FLAG_FENCE;
            hdr.FenceId = request.FenceId;
        }
        return writer.TryWrite(in hdr) ? writer.BytesWritten : 0;
    }
}
