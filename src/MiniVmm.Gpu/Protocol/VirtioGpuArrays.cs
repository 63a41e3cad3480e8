using System.Runtime.CompilerServices;

namespace MiniVmm.Gpu.Protocol;

// Fixed-size arrays of the wire structs, as [InlineArray] so the structs stay blittable.

[InlineArray(3)]
public struct VirtioGpuPadding3
{
    private byte _element0;
}

[InlineArray(16)]
public struct VirtioGpuBytes16
{
    private byte _element0;
}

[InlineArray(64)]
public struct VirtioGpuBytes64
{
    private byte _element0;
}

[InlineArray(VirtioGpuConstants.EdidBlobSize)]
public struct VirtioGpuEdidBlob
{
    private byte _element0;
}

[InlineArray(4)]
public struct VirtioGpuUInt4
{
    private uint _element0;
}

[InlineArray(VirtioGpuConstants.VIRTIO_GPU_MAX_SCANOUTS)]
public struct VirtioGpuDisplayModes
{
    private VirtioGpuDisplayOne _element0;
}
