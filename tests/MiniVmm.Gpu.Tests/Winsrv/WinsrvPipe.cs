using MiniVmm.Gpu.Tests.CrossDomain;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Winsrv;

/// <summary>
/// The winsrv front door as a <see cref="IGuestWaylandPipe"/>: TX carries the bytes (and the blob in resource_ids);
/// RX buffers bring the compositor's bytes and blob ids back, and are re-posted.
/// </summary>
internal sealed class WinsrvPipe(WinsrvHarness h, uint connectionId) : IGuestWaylandPipe
{
    public void Send(ReadOnlySpan<byte> bytes, uint blobResourceId = 0) =>
        Assert.Equal(RESP_OK_NODATA, h.Send(connectionId, bytes, blobResourceId == 0 ? null : [blobResourceId]));

    public byte[] Receive(List<uint> blobIds)
    {
        var rx = h.WaitRx(r => r.Count > 0);
        h.PostRx(rx.Count);
        blobIds.AddRange(rx.SelectMany(r => r.ResourceIds));
        return [.. rx.SelectMany(r => r.Data)];
    }
}
