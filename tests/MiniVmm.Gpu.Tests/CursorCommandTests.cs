using MiniVmm.Gpu.Protocol;
using MiniVmm.TestSupport;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests;

public sealed class CursorCommandTests : IDisposable
{
    private readonly GpuHarness _h = new();

    public CursorCommandTests()
    {
        // The cursor image: a 64x64 B8G8R8A8 resource whose pixel (x, y) is (B=x, G=y, R=7, A=200).
        var pages = _h.CreateBackedResource(5, 64, 64, VirtioGpuFormat.B8G8R8A8_UNORM);
        var bytes = new byte[64 * 64 * 4];
        for (int y = 0; y < 64; y++)
            for (int x = 0; x < 64; x++)
                new byte[] { (byte)x, (byte)y, 7, 200 }.CopyTo(bytes, (y * 64 + x) * 4);
        _h.Memory.Write(pages, bytes);
        Assert.Equal(RESP_OK_NODATA, _h.Transfer(5, GpuHarness.Rect(0, 0, 64, 64), 0).Type);
    }

    public void Dispose() => _h.Dispose();

    [Fact]
    public void UpdateCursorCopiesTheImageAndPosition()
    {
        var reply = _h.UpdateCursor(0, 5, 100, 50, hotX: 3, hotY: 4);
        Assert.Equal(RESP_OK_NODATA, reply.Type);
        var (scanout, image, x, y) = Assert.Single(_h.Sink.CursorUpdates);
        Assert.Equal((0, 100, 50), (scanout, x, y));
        Assert.NotNull(image);
        Assert.Equal((64, 64, 3, 4), (image.Width, image.Height, image.HotX, image.HotY));
        Assert.Equal([10, 20, 7, 200], image.Bgra.AsSpan((20 * 64 + 10) * 4, 4).ToArray());
        Assert.Equal(100, _h.Device.Backend.Cursor.X);

        // The image was copied: the resource can go away.
        Assert.Equal(RESP_OK_NODATA, _h.Unref(5).Type);
        Assert.NotNull(_h.Device.Backend.Cursor.Image);
    }

    [Fact]
    public void LinuxStyleCursorCommandWithoutResponseBufferIsServed()
    {
        var reply = _h.SubmitCursor(new VirtioGpuUpdateCursor
        {
            Hdr = GpuHarness.Hdr(CMD_MOVE_CURSOR),
            Pos = new VirtioGpuCursorPos { X = 9, Y = 11 },
        });
        Assert.Equal(0u, reply.UsedLength);
        Assert.Equal([(0, 9, 11)], _h.Sink.CursorMoves);
        Assert.Equal(VirtioGpuConstants.CursorQueue, _h.Interrupt.QueueSignals[^1]);
        Assert.Equal("cursor MOVE_CURSOR scanout=0 pos=9,11 -> OK_NODATA", _h.Trace[^1]);
    }

    [Fact]
    public void NegativePositionsSurviveAsSigned()
    {
        Assert.Equal(RESP_OK_NODATA, _h.UpdateCursor(0, 0, unchecked((uint)-5), 7, type: CMD_MOVE_CURSOR).Type);
        Assert.Equal((0, -5, 7), Assert.Single(_h.Sink.CursorMoves));
    }

    [Fact]
    public void ResourceZeroHidesTheCursor()
    {
        Assert.Equal(RESP_OK_NODATA, _h.UpdateCursor(0, 5, 1, 1).Type);
        Assert.Equal(RESP_OK_NODATA, _h.UpdateCursor(0, 0, 1, 1).Type);
        Assert.Null(_h.Sink.CursorUpdates[^1].Image);
        Assert.Null(_h.Device.Backend.Cursor.Image);
    }

    [Fact]
    public void CursorErrors()
    {
        Assert.Equal(RESP_ERR_INVALID_RESOURCE_ID, _h.UpdateCursor(0, 9, 0, 0).Type);
        Assert.Equal(RESP_ERR_INVALID_SCANOUT_ID, _h.UpdateCursor(1, 5, 0, 0).Type);
        Assert.Equal(RESP_ERR_INVALID_SCANOUT_ID, _h.UpdateCursor(3, 0, 0, 0, type: CMD_MOVE_CURSOR).Type);
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, _h.UpdateCursor(0, 5, 0, 0, hotX: 64).Type);
        Assert.Equal(RESP_OK_NODATA, _h.CreateResource(6, VirtioGpuFormat.B8G8R8A8_UNORM, 32, 32).Type);
        Assert.Equal(RESP_ERR_INVALID_PARAMETER, _h.UpdateCursor(0, 6, 0, 0).Type);
        Assert.Empty(_h.Sink.CursorUpdates);
    }

    [Fact]
    public void ControlCommandsOnTheCursorQueueAreRejected()
    {
        var chain = _h.Cursor.AddChain(MockBuffer.Readable(GpuHarness.Bytes(GpuHarness.Hdr(CMD_GET_DISPLAY_INFO))), MockBuffer.WritableSpace(408));
        var reply = _h.Kick(_h.Cursor, VirtioGpuConstants.CursorQueue, chain, 24);
        Assert.Equal(RESP_ERR_UNSPEC, reply.Type);
    }
}
