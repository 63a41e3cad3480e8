using MiniVmm.Gpu.Protocol;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Fuzz;

/// <summary>
/// What the guest knows from the answers it got: which resource and context ids live, which were freed, and which
/// blobs are guest-memory blobs (ring candidates). Updated only from OK answers, so it never guesses.
/// </summary>
internal sealed class FuzzShadow
{
    public List<uint> LiveResources { get; } = [];
    public HashSet<uint> FreedResources { get; } = [];
    public List<uint> GuestBlobs { get; } = [];
    public List<uint> LiveContexts { get; } = [];
    public HashSet<uint> FreedContexts { get; } = [];
    public List<uint> CrossDomainContexts { get; } = [];

    /// <summary>Whether the model follows this command's answer (so the answer must reach the guest).</summary>
    public static bool Follows(FuzzCommand command) => (VirtioGpuCtrlType)command.Header.Type
        is CMD_RESOURCE_CREATE_2D or CMD_RESOURCE_CREATE_BLOB or CMD_RESOURCE_UNREF or CMD_CTX_CREATE or CMD_CTX_DESTROY;

    /// <summary>Applies an answer the device gave to <paramref name="command"/>.</summary>
    public void Apply(FuzzCommand command, VirtioGpuCtrlType answer)
    {
        if (answer != RESP_OK_NODATA || command.OnCursorQueue)
            return;
        var hdr = command.Header;
        uint id = command.WordAt(24);
        switch ((VirtioGpuCtrlType)hdr.Type)
        {
            case CMD_RESOURCE_CREATE_2D:
                Add(LiveResources, id);
                FreedResources.Remove(id);
                break;
            case CMD_RESOURCE_CREATE_BLOB:
                Add(LiveResources, id);
                FreedResources.Remove(id);
                if (command.WordAt(28) == VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_GUEST)
                    Add(GuestBlobs, id);
                break;
            case CMD_RESOURCE_UNREF:
                LiveResources.Remove(id);
                GuestBlobs.Remove(id);
                FreedResources.Add(id);
                break;
            case CMD_CTX_CREATE:
                Add(LiveContexts, hdr.CtxId);
                FreedContexts.Remove(hdr.CtxId);
                if ((command.WordAt(28) & VirtioGpuConstants.VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK) == VirtioGpuConstants.VIRTIO_GPU_CAPSET_CROSS_DOMAIN)
                    Add(CrossDomainContexts, hdr.CtxId);
                break;
            case CMD_CTX_DESTROY:
                LiveContexts.Remove(hdr.CtxId);
                CrossDomainContexts.Remove(hdr.CtxId);
                FreedContexts.Add(hdr.CtxId);
                break;
        }
    }

    private static void Add(List<uint> list, uint id)
    {
        if (!list.Contains(id))
            list.Add(id);
    }
}
