namespace MiniVmm.Virtio.Queue;

/// <summary>
/// The loop a simple device runs on a notified queue: pop each chain, answer it at once, return it, interrupt once.
/// A driver error (a bad head, a chain outside guest memory) sets DEVICE_NEEDS_RESET and the bad head goes back
/// empty, so nothing the driver does can stop the device thread. Devices that park chains (virtio-gpu's fences, winsrv
/// RX) run their own loop.
/// </summary>
public static class QueueServing
{
    /// <param name="serve">Answers one chain; returns the bytes written (used.len).</param>
    /// <param name="more">Asked before each pop: false leaves the remaining chains for later (a device with nothing to send).</param>
    public static void Serve(Virtqueue queue, int queueIndex, IVirtioInterrupt interrupt, string device,
        Func<DescriptorChain, uint> serve, Func<bool>? more = null)
    {
        bool returned = false;
        while (more?.Invoke() ?? true)
        {
            var pop = queue.TryPop();
            if (pop.Status == PopStatus.Empty)
                break;
            if (pop.Status == PopStatus.Error)
            {
                interrupt.SignalNeedsReset($"{device} queue {queueIndex}: {pop.Error.Message}");
                if (pop.Head is { } head && !Return(queue, queueIndex, head, 0, interrupt, device))
                    break;
                returned |= pop.Head is not null;
                if (pop.Error.StopsQueue)
                    break;
                continue;
            }
            if (!Return(queue, queueIndex, pop.Chain!.HeadIndex, serve(pop.Chain), interrupt, device))
                break;
            returned = true;
        }
        if (returned && queue.NeedsNotification())
            interrupt.SignalQueue(queueIndex);
    }

    private static bool Return(Virtqueue queue, int queueIndex, ushort head, uint written, IVirtioInterrupt interrupt, string device)
    {
        if (queue.AddUsed(head, written))
            return true;
        interrupt.SignalNeedsReset($"{device} queue {queueIndex}: the used ring is no longer in guest memory");
        return false;
    }
}
