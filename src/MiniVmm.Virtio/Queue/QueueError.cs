namespace MiniVmm.Virtio.Queue;

/// <summary>What a driver did wrong with a queue. Every value is a driver bug the device reports with NEEDS_RESET.</summary>
public enum QueueErrorKind
{
    None = 0,
    /// <summary>avail->idx moved more than the queue size past the last index the device saw.</summary>
    AvailIndexAhead,
    /// <summary>The available ring or used ring could not be accessed (memory changed under the queue).</summary>
    RingInaccessible,
    /// <summary>A head index in the available ring is not below the queue size.</summary>
    HeadOutOfRange,
    /// <summary>A <c>next</c> index is not below the size of the table it indexes.</summary>
    NextOutOfRange,
    /// <summary>More descriptors than the table holds: the chain loops.</summary>
    ChainTooLong,
    /// <summary>A descriptor could not be read from guest memory.</summary>
    DescriptorInaccessible,
    /// <summary>An indirect table contains another indirect descriptor (spec 2.7.5.3.1 forbids nesting).</summary>
    NestedIndirect,
    /// <summary>A descriptor sets both INDIRECT and NEXT (spec 2.7.5.3.1 forbids it).</summary>
    IndirectWithNext,
    /// <summary>An indirect table whose length is zero or not a multiple of 16.</summary>
    IndirectBadLength,
    /// <summary>An indirect table with more entries than a queue may have (32768).</summary>
    IndirectTooLarge,
    /// <summary>An indirect table outside guest memory.</summary>
    IndirectOutOfMemory,
    /// <summary>A buffer whose address plus length is outside guest memory or wraps.</summary>
    BufferOutOfMemory,
    /// <summary>A device-readable buffer after a device-writable one (spec 2.7.4.2).</summary>
    ReadableAfterWritable,
    /// <summary>The lengths of the chain's buffers add up to more than 2^32 - 1.</summary>
    TotalLengthOverflow,
    /// <summary>
    /// The available ring names a head the device still holds (popped, not yet returned in the used ring): the driver
    /// republished a buffer it does not own. The device does not take it again, so it never holds more chains than
    /// the queue has heads.
    /// </summary>
    HeadInUse,
}

/// <summary>A typed queue error with a message for logs and NEEDS_RESET reasons.</summary>
public readonly record struct QueueError(QueueErrorKind Kind, string Message)
{
    public static QueueError None => default;

    public bool IsError => Kind != QueueErrorKind.None;

    /// <summary>
    /// Whether the device should stop serving the queue until the next notification: the ring itself cannot be trusted
    /// (an index run ahead, a ring gone) or the driver republished a head it does not own.
    /// </summary>
    public bool StopsQueue => Kind is QueueErrorKind.AvailIndexAhead or QueueErrorKind.RingInaccessible or QueueErrorKind.HeadInUse;

    public override string ToString() => IsError ? $"{Kind}: {Message}" : "no error";
}
