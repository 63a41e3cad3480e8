using MiniVmm.Gpu.CrossDomain;

namespace MiniVmm.Gpu.Backend;

/// <summary>
/// A rendering context (CTX_CREATE). Capset 0 is the "default" context Linux creates for any DRM file before
/// it knows what the client wants (and for the fbdev client): it accepts resources and does nothing else.
/// Capset 5 is cross-domain: <see cref="CrossDomain"/> runs its command stream under its own lock. The rest is
/// guarded by the resource lock (see <see cref="VirtioGpuBackend"/>).
/// </summary>
internal sealed class GpuContext
{
    public GpuContext(uint id, uint capsetId, string debugName, CrossDomainContext? crossDomain)
    {
        CrossDomain = crossDomain;
        Id = id;
        CapsetId = capsetId;
        DebugName = debugName;
    }

    public uint Id { get; }
    public uint CapsetId { get; }
    public string DebugName { get; }

    /// <summary>The cross-domain state (capset 5 only); disposed when the context is destroyed or the device reset.</summary>
    public CrossDomainContext? CrossDomain { get; }

    /// <summary>Resources attached with CTX_ATTACH_RESOURCE (rings and shared buffers, for cross-domain).</summary>
    public HashSet<uint> Resources { get; } = [];
}
