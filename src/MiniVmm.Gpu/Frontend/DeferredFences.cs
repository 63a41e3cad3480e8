namespace MiniVmm.Gpu.Frontend;

/// <summary>
/// Control-queue chains whose used-ring entry is held back: a SUBMIT_3D fenced on a cross-domain channel ring
/// (FENCE | INFO_RING_IDX, ring 1) that carried POLLs completes only once that many messages are on the ring, and
/// any later fence on the same (ctx, ring) waits behind it, because a timeline signals in order (a fence completes
/// every earlier one). Ring 0 and global fences never wait. Not thread-safe: the device's lock guards it.
/// </summary>
internal sealed class DeferredFences
{
    private readonly Dictionary<uint, Queue<Entry>> _byContext = [];

    public int Count => _byContext.Values.Sum(queue => queue.Count);

    /// <summary>Holds <paramref name="head"/> back when <paramref name="submit"/> must wait; false: return it now.</summary>
    public bool TryDefer(SubmitFence submit, ushort head, uint written)
    {
        if (!submit.OnTimeline || submit.RingIdx != CrossDomainConstants.ChannelRing)
            return false;
        _byContext.TryGetValue(submit.CtxId, out var queue);
        if (submit.Polls == 0 && queue is not { Count: > 0 })
            return false;
        if (queue is null)
            _byContext.Add(submit.CtxId, queue = new Queue<Entry>());
        queue.Enqueue(new Entry(head, written, submit.Polls));
        return true;
    }

    /// <summary>Credits <paramref name="messages"/> answered POLLs of <paramref name="ctxId"/>; calls <paramref name="complete"/> for each chain now done, in order.</summary>
    public void Credit(uint ctxId, int messages, Action<ushort, uint> complete)
    {
        if (!_byContext.TryGetValue(ctxId, out var queue))
            return;
        while (queue.TryPeek(out var entry))
        {
            int take = Math.Min(messages, entry.Owed);
            entry.Owed -= take;
            messages -= take;
            if (entry.Owed > 0)
                break;
            queue.Dequeue();
            complete(entry.Head, entry.Written);
        }
        if (queue.Count == 0)
            _byContext.Remove(ctxId);
    }

    /// <summary>Completes every chain of contexts that no longer exist (CTX_DESTROY), so the guest never waits forever.</summary>
    public void CompleteGone(Func<uint, bool> exists, Action<ushort, uint> complete)
    {
        foreach (var ctxId in _byContext.Keys.Where(id => !exists(id)).ToArray())
        {
            foreach (var entry in _byContext[ctxId])
                complete(entry.Head, entry.Written);
            _byContext.Remove(ctxId);
        }
    }

    /// <summary>Forgets everything (device reset: the queues are gone with it).</summary>
    public void Clear() => _byContext.Clear();

    private sealed class Entry(ushort head, uint written, int owed)
    {
        public ushort Head { get; } = head;
        public uint Written { get; } = written;
        public int Owed { get; set; } = owed;
    }
}
