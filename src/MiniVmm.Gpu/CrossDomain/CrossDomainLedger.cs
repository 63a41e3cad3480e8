namespace MiniVmm.Gpu.CrossDomain;

/// <summary>
/// What every cross-domain channel of one device holds for the guest together: bytes queued for compositors and pipe
/// readers, open pipes, and compositor fds parked for HOST3D blobs. Per channel the limits stay (8 MiB queued per
/// socket and pipe, 64 pipes, 64 parked fds per context); this caps the sum over up to 1024 contexts and winsrv
/// connections, and the queued bytes count against the device's host budget (max-host-memory) like any other
/// allocation: <see cref="BudgetRoom"/> says what the budget has left, and the budget counts <see cref="QueuedBytes"/>.
/// Thread-safe (contexts run under their own locks): its lock is a leaf, taken under any other.
/// Admission is checked before a channel queues or opens and the channel reports what it then holds, so two
/// contexts racing may pass a cap by one message or pipe each; never by more.
/// </summary>
public sealed class CrossDomainLedger
{
    public const long DefaultMaxQueuedBytes = 64L << 20;
    public const int DefaultMaxPipes = 1024, DefaultMaxParkedFds = 1024;

    private readonly Lock _lock = new();
    private long _queuedBytes;
    private int _pipes, _parkedFds;

    public CrossDomainLedger(long maxQueuedBytes = DefaultMaxQueuedBytes, int maxPipes = DefaultMaxPipes, int maxParkedFds = DefaultMaxParkedFds)
    {
        MaxQueuedBytes = maxQueuedBytes;
        MaxPipes = maxPipes;
        MaxParkedFds = maxParkedFds;
    }

    public long MaxQueuedBytes { get; }
    public int MaxPipes { get; }
    public int MaxParkedFds { get; }

    /// <summary>What the device's host budget has left (null: no budget, only <see cref="MaxQueuedBytes"/>).</summary>
    public Func<long>? BudgetRoom { get; set; }

    public long QueuedBytes
    {
        get
        {
            lock (_lock)
                return _queuedBytes;
        }
    }

    public int Pipes
    {
        get
        {
            lock (_lock)
                return _pipes;
        }
    }

    public int ParkedFds
    {
        get
        {
            lock (_lock)
                return _parkedFds;
        }
    }

    /// <summary>Whether <paramref name="bytes"/> more may be queued (within the cap and what the host budget has left).</summary>
    public bool HasRoomFor(long bytes)
    {
        // The budget is asked outside this lock: it reads its own totals, which count QueuedBytes through this lock.
        long budgetRoom = BudgetRoom?.Invoke() ?? long.MaxValue;
        lock (_lock)
            return bytes <= MaxQueuedBytes - _queuedBytes && bytes <= budgetRoom;
    }

    public bool HasRoomForPipe()
    {
        lock (_lock)
            return _pipes < MaxPipes;
    }

    /// <summary>Counts one more parked compositor fd, or refuses.</summary>
    public bool TryPark()
    {
        lock (_lock)
        {
            if (_parkedFds >= MaxParkedFds)
                return false;
            _parkedFds++;
            return true;
        }
    }

    public void Unpark(int count = 1)
    {
        lock (_lock)
            _parkedFds -= count;
    }

    /// <summary>A channel now holds <paramref name="queuedBytes"/> and <paramref name="pipes"/>: moves the totals by the change since its last report.</summary>
    public void Report(ref Holding last, long queuedBytes, int pipes)
    {
        var now = new Holding(queuedBytes, pipes);
        if (now == last)
            return; // the common case (every pump and SEND reports): no lock taken
        lock (_lock)
        {
            _queuedBytes += queuedBytes - last.QueuedBytes;
            _pipes += pipes - last.Pipes;
        }
        last = now;
    }

    /// <summary>What one channel reported last.</summary>
    public readonly record struct Holding(long QueuedBytes, int Pipes);
}
