using MiniVmm.Wayland;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Hostile;

/// <summary>
/// Issue 11 item 5 through the real channel: a compositor (the stand-in socket, played by the test) that sends random
/// bytes, floods fds, and truncates a file after the guest made it a blob. The VMM keeps running and serving.
/// </summary>
[Collection(HostileCollection.Name)]
public sealed class HostileCompositorTests : CompositorContextTests
{
    [Fact]
    public void AFileTruncatedAfterTheGuestMadeItABlobCannotFaultTheVmm()
    {
        using var peer = OpenContext();
        using var file = CompositorFdTests.UnsealedFile(8192, 0x42);
        Assert.Equal(4, UnixSocket.Send(new Fd((int)peer.Handle, ownsHandle: false), "keym"u8, [(int)file.DangerousGetHandle()], out int errno));
        Assert.Equal(0, errno);
        var (ids, _) = Poll();
        var id = Assert.Single(ids);
        Assert.Equal(8192u, id.Size);

        Assert.Equal(RESP_OK_NODATA, H.CreateHostBlob(20, 8192, ctxId: 1, blobId: id.Id).Type);
        RandomAccess.SetLength(file, 0); // the compositor pulls the pages back
        Assert.Equal(RESP_OK_NODATA, H.SetScanoutBlob(0, 20, GpuHarness.Rect(0, 0, 32, 64), 32, 64, stride: 128).Type);
        Assert.Equal(RESP_OK_NODATA, H.Flush(20, GpuHarness.Rect(0, 0, 32, 64)).Type);
        Assert.Equal(0x42, H.Device.Scanouts[0].Capture(Backend.PixelOrder.Bgra)!.Pixels[0]);
        HostBounds.AssertServes(H);
    }

    [Fact]
    public void RandomBytesAndAnFdFloodAreCarriedOrRefusedAndTheVmmServes()
    {
        using var peer = OpenContext();
        var bounds = HostBounds.Take();
        var noise = new byte[16 << 10];
        new Random(5).NextBytes(noise);
        peer.Send(noise);
        using var file = CompositorFdTests.UnsealedFile(4096, 1);
        int[] many = [.. Enumerable.Repeat((int)file.DangerousGetHandle(), 28)];
        for (int i = 0; i < 20; i++)
            UnixSocket.Send(new Fd((int)peer.Handle, ownsHandle: false), "x"u8, many, out _);

        // Each POLL is answered with bytes, identifiers or a hang-up, until all that was sent is through.
        int answered = 0;
        while (answered < 100 && TryPoll(TimeSpan.FromSeconds(1)))
            answered++;
        Assert.InRange(answered, 1, 99);
        bounds.AssertWithin(16L << 20, maxFds: 100, rssSlack: 32L << 20); // 560 fds were sent; a context parks at most 64
        HostBounds.AssertServes(H);
    }

    /// <summary>A fenced POLL answered within <paramref name="timeout"/>; false leaves it waiting (the context's teardown returns it).</summary>
    private bool TryPoll(TimeSpan timeout)
    {
        var poll = H.StartSubmit3D(1, GpuHarness.XdPoll(), fence: 9, ring: 1);
        try
        {
            H.WaitUsed(timeout, poll);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private (List<(uint Id, uint Type, uint Size)> Ids, byte[] Data) Poll()
    {
        Assert.True(TryPoll(Wait), "the POLL was not answered");
        var ring = H.ReadRing(ChannelRing);
        return ring[0] == (byte)CrossDomainCmd.Receive ? GpuHarness.ParseReceive(ring) : ([], []);
    }
}
