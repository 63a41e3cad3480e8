namespace MiniVmm.Virtio.Queue;

public enum PopStatus
{
    /// <summary>No available buffers.</summary>
    Empty,
    /// <summary><see cref="PopResult.Chain"/> holds a validated chain.</summary>
    Chain,
    /// <summary>
    /// A driver error (<see cref="PopResult.Error"/>). When <see cref="PopResult.Head"/> is set the device should
    /// still return that head with used.len = 0; after <see cref="QueueErrorKind.AvailIndexAhead"/> it should
    /// stop serving the queue until the next notification.
    /// </summary>
    Error,
}

/// <summary>The outcome of <see cref="Virtqueue.TryPop"/>.</summary>
public readonly record struct PopResult(PopStatus Status, DescriptorChain? Chain, QueueError Error, ushort? Head)
{
    public static PopResult Empty => new(PopStatus.Empty, null, default, null);
}
