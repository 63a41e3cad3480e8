namespace MiniVmm.Gpu.Backend;

/// <summary>
/// Calls to the <see cref="IScanoutSink"/> recorded while the resource lock is held and made after it is released:
/// a window sink writes to its compositor's socket, which must not hold up screenshots or the event loop. Batches
/// are delivered one at a time under <see cref="_deliveryLock"/>, in the order the commands recorded them.
/// </summary>
internal sealed class DeferredSinkCalls(IScanoutSink sink, Lock resourceLock)
{
    private readonly Lock _deliveryLock = new(); // taken before the resource lock, never under it
    private List<Action<IScanoutSink>> _pending = []; // guarded by the resource lock

    /// <summary>Records a call; the caller holds the resource lock.</summary>
    public void Add(Action<IScanoutSink> call) => _pending.Add(call);

    /// <summary>Makes every recorded call; the caller does not hold the resource lock.</summary>
    public void Deliver()
    {
        lock (_deliveryLock)
        {
            List<Action<IScanoutSink>> calls;
            lock (resourceLock)
            {
                if (_pending.Count == 0)
                    return;
                calls = _pending;
                _pending = [];
            }
            foreach (var call in calls)
                call(sink);
        }
    }
}
