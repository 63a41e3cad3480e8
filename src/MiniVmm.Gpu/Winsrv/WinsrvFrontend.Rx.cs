using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Virtio;
using MiniVmm.Virtio.Queue;

namespace MiniVmm.Gpu.Winsrv;

// The rx queue: the guest posts writable buffers ahead of time; each receives one RX {hdr, fd, len, resource_ids,
// data}. Compositor sockets are watched only while a buffer is posted, so bytes that arrive with none wait in the
// socket (level-triggered epoll would otherwise spin). A hang-up is one RX with len 0 and no ids; after it the
// connection is finished and the id stays taken until the guest's DISCONNECT.
public sealed partial class WinsrvFrontend
{
    private readonly Queue<DescriptorChain> _rxPosted = new(); // guarded by _lock: popped, not yet filled
    private readonly byte[] _rxData; // guarded by _lock
    private readonly List<(uint Id, uint Type, ulong Size)> _rxIdentifiers = []; // guarded by _lock

    /// <summary>Moves whatever the compositors sent into posted RX buffers. The event loop calls it; so may a host without one.</summary>
    public void Pump()
    {
        lock (_lock)
            PumpLocked();
    }

    private void TakeRxBuffersLocked(Virtqueue rx, IVirtioInterrupt interrupt)
    {
        bool returned = false;
        while (true)
        {
            var chain = PopLocked(rx, _numbers.RxQueueIndex, interrupt, ref returned, out bool stop);
            if (chain is not null)
            {
                if (chain.WritableLength > WinsrvTx.Size)
                {
                    _rxPosted.Enqueue(chain);
                }
                else
                {
                    // No room for even one data byte after the header: a driver bug, handed straight back unused.
                    _tracer?.Invoke($"winsrv RX buffer of {chain.WritableLength} bytes is not larger than the {WinsrvTx.Size}-byte header");
                    returned |= ReturnLocked(rx, _numbers.RxQueueIndex, chain.HeadIndex, 0, interrupt, ref stop);
                }
            }
            if (stop)
                break;
        }
        if (returned && rx.NeedsNotification())
            interrupt.SignalQueue(_numbers.RxQueueIndex);
        PumpLocked();
    }

    private void PumpLocked()
    {
        if (_rx is not { } rx || _interrupt is not { } interrupt)
            return;
        bool returned = false, stop = false;
        foreach (var connection in _connections.Values)
        {
            // First, so a compositor that failed while taking queued TX is the hang-up the next RX reports.
            connection.Channel.FlushOutgoing();
            while (!stop && !connection.Finished && _rxPosted.TryPeek(out var chain))
            {
                int capacity = (int)Math.Min(chain.WritableLength - WinsrvTx.Size, (uint)_rxData.Length);
                _rxIdentifiers.Clear();
                if (!connection.Channel.TryReceive(_rxData.AsSpan(0, capacity), out int length, _rxIdentifiers, out bool hangUp))
                    break;
                _rxPosted.Dequeue();
                if (hangUp)
                {
                    connection.Finished = true;
                    connection.StopWatching();
                }
                uint written = WriteRx(chain.CreateWriter(), connection.Id, _rxData.AsSpan(0, length));
                _tracer?.Invoke($"winsrv RX fd={connection.Id} len={length}{(hangUp ? " (hang-up)" : "")} ids={_rxIdentifiers.Count}");
                TraceWinsrv($"RX fd={connection.Id} len={length}{(hangUp ? " (hang-up)" : "")} ids=[{string.Join(',', _rxIdentifiers.Select(i => i.Id))}]");
                TraceWayland(connection, Wayland.MessageDirection.Event, _rxData.AsSpan(0, length));
                returned |= ReturnLocked(rx, _numbers.RxQueueIndex, chain.HeadIndex, written, interrupt, ref stop);
            }
        }
        if (returned && rx.NeedsNotification())
            interrupt.SignalQueue(_numbers.RxQueueIndex);
        UpdateWatchesLocked();
    }

    /// <summary>The RX header and data. Blob ids go in resource_ids up to MaxAllocs; the rest, and write pipes
    /// (winsrv has no pipe form; the channel keeps them until the connection closes), are dropped.</summary>
    private uint WriteRx(DescriptorChainWriter writer, uint connectionId, ReadOnlySpan<byte> data)
    {
        var header = new WinsrvTx { Hdr = { Type = _numbers.CmdRx }, Fd = connectionId, Len = (uint)data.Length };
        int slot = 0;
        foreach (var (id, type, _) in _rxIdentifiers)
        {
            if (type != (uint)CrossDomainIdType.VirtgpuBlob)
                continue;
            if (slot < _numbers.MaxAllocs)
                header.ResourceIds[slot++] = id;
            else if (_resources.TryTakeHostFd(id, out var fd, out _))
                fd.Dispose();
        }
        // The capacity was taken from WritableLength, so both writes fit; a shrunk chain gives used.len 0.
        return writer.TryWrite(in header) && writer.TryWriteBytes(data) ? writer.BytesWritten : 0;
    }

    /// <summary>
    /// Watch every live connection for input while an RX buffer is posted (none while there is nowhere to put data),
    /// and each with queued TX bytes for writability; both run <see cref="Pump"/>, which flushes, then receives.
    /// </summary>
    private void UpdateWatchesLocked()
    {
        if (_loop is not { } loop)
            return;
        bool receiving = _rxPosted.Count > 0;
        foreach (var connection in _connections.Values)
        {
            int events = (receiving && !connection.Finished ? Poll.In : 0) | (connection.Channel.QueuedSendBytes > 0 ? Poll.Out : 0);
            connection.WatchFor(loop, events, Pump);
        }
    }
}
