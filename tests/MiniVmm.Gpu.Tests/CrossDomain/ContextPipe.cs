using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>
/// The cross-domain front door as a <see cref="IGuestWaylandPipe"/>: SEND carries the bytes (and a blob as a
/// VIRTGPU_BLOB identifier); a fenced POLL brings back one RECEIVE from <paramref name="channelRing"/>.
/// </summary>
internal sealed class ContextPipe(GpuHarness h, uint ctxId, uint channelRing) : IGuestWaylandPipe
{
    private ulong _fence = 1000;

    public void Send(ReadOnlySpan<byte> bytes, uint blobResourceId = 0)
    {
        var command = blobResourceId == 0 ? GpuHarness.XdSend(bytes)
            : GpuHarness.XdSend(bytes, (blobResourceId, (uint)CrossDomainIdType.VirtgpuBlob));
        Assert.Equal(RESP_OK_NODATA, h.Submit3D(ctxId, command).Type);
    }

    public byte[] Receive(List<uint> blobIds)
    {
        var fence = _fence++;
        var poll = h.StartSubmit3D(ctxId, GpuHarness.XdPoll(), fence, ring: 1);
        Assert.Equal(fence, h.WaitUsed(TimeSpan.FromSeconds(10), poll)[0].FenceId);
        var (ids, data) = GpuHarness.ParseReceive(h.ReadRing(channelRing));
        blobIds.AddRange(ids.Where(i => i.Type == (uint)CrossDomainIdType.VirtgpuBlob).Select(i => i.Id));
        return data;
    }
}
