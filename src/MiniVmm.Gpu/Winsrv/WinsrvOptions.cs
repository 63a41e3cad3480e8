using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Gpu.Protocol;

namespace MiniVmm.Gpu.Winsrv;

/// <summary>The winsrv half of <see cref="GpuOptions.Check"/>: the numbers must fit the device they are put in.</summary>
internal static class WinsrvOptions
{
    /// <summary>Queues 0 and 1 are control and cursor; winsrv adds exactly two more, so rx and tx are 2 and 3.</summary>
    public const int QueueCount = 4;

    /// <summary>Largest MaxData accepted: one TX is copied whole before it is sent.</summary>
    public const int MaxDataLimit = 1 << 16;

    public static string? Check(GpuOptions options)
    {
        var numbers = options.WinsrvNumbers;
        // Feature bits 24..37 are transport bits; a device-specific bit must be below 24 (virtio 1.2, 6).
        if (numbers.FeatureBit is < 0 or > 23)
            return $"winsrv feature bit {numbers.FeatureBit} is not a device feature bit (0..23)";
        ulong others = OtherFeatures(options);
        if ((others & (1UL << numbers.FeatureBit)) != 0)
            return numbers.FeatureBit == VirtioGpuConstants.VIRTIO_GPU_F_EDID && options.Edid
                ? $"winsrv=on needs edid=off: the winsrv feature bit ({numbers.FeatureBit}) is VIRTIO_GPU_F_EDID (docs/winsrv.md)"
                : $"the winsrv feature bit ({numbers.FeatureBit}) is already offered for blob or contexts";
        if (numbers.RxQueueIndex == numbers.TxQueueIndex || numbers.RxQueueIndex is < 2 or >= QueueCount || numbers.TxQueueIndex is < 2 or >= QueueCount)
            return $"winsrv queues rx {numbers.RxQueueIndex} and tx {numbers.TxQueueIndex} must be 2 and 3 in some order";
        if (numbers.MaxAllocs is < 1 or > WinsrvTx.MaxResourceIds)
            return $"winsrv MaxAllocs {numbers.MaxAllocs} is outside 1..{WinsrvTx.MaxResourceIds} (the wire struct's array)";
        // MaxData bounds the TX copy; an RX carries at most the channel's MaxSendReceiveData (3744) anyway.
        if (numbers.MaxData is < 1 or > MaxDataLimit)
            return $"winsrv MaxData {numbers.MaxData} is outside 1..{MaxDataLimit}";
        return null;
    }

    /// <summary>The bits the rest of the device offers with these options (mirrors VirtioGpuDevice.DeviceFeatures).</summary>
    private static ulong OtherFeatures(GpuOptions options) =>
        (options.Edid ? 1UL << VirtioGpuConstants.VIRTIO_GPU_F_EDID : 0)
        | (options.Blob ? 1UL << VirtioGpuConstants.VIRTIO_GPU_F_RESOURCE_BLOB | 1UL << VirtioGpuConstants.VIRTIO_GPU_F_RESOURCE_UUID : 0)
        | (options.Contexts ? 1UL << VirtioGpuConstants.VIRTIO_GPU_F_VIRGL | 1UL << VirtioGpuConstants.VIRTIO_GPU_F_CONTEXT_INIT : 0);
}
