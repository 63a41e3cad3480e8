using MiniVmm.Sys;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;
using Tmds.Linux;

namespace MiniVmm.GuestProxy.Tests;

/// <summary>The compositor → client direction: framing across RECEIVEs, hidden delete_ids, fds held for their event.</summary>
public sealed class ClientEventStreamTests
{
    private const uint Pool = 10;

    [Fact]
    public void AHiddenDeleteIdSplitAcrossTwoReceivesIsStillDropped()
    {
        var stream = new ClientEventStream();
        stream.HideDeleteId(Pool);
        var bytes = Events(w => { WlCallback.EmitDone(w, 3, 7); WlDisplay.EmitDeleteId(w, 1, Pool); WlCallback.EmitDone(w, 4, 8); });
        var done = Events(w => WlCallback.EmitDone(w, 3, 7));
        var cut = done.Length + 6; // inside the delete_id's header

        var first = stream.Take(bytes.AsSpan(0, cut), []);
        var second = stream.Take(bytes.AsSpan(cut), []);

        Assert.Equal(done, first);
        Assert.Equal(Events(w => WlCallback.EmitDone(w, 4, 8)), second);
    }

    [Fact]
    public void OnlyAsManyDeleteIdsAsWereHiddenAreDroppedAndOthersPass()
    {
        var stream = new ClientEventStream();
        stream.HideDeleteId(Pool);
        stream.HideDeleteId(Pool);
        var bytes = Events(w =>
        {
            WlDisplay.EmitDeleteId(w, 1, 11); // another id: the client's own
            WlDisplay.EmitDeleteId(w, 1, Pool);
            WlDisplay.EmitDeleteId(w, 1, Pool);
            WlDisplay.EmitDeleteId(w, 1, Pool); // the client destroyed the pool itself later: this one is its own
        });

        var delivered = stream.Take(bytes, []);

        Assert.Equal(Events(w => { WlDisplay.EmitDeleteId(w, 1, 11); WlDisplay.EmitDeleteId(w, 1, Pool); }), delivered);
    }

    [Fact]
    public void FdsThatCameWithOnlyPartOfAnEventWaitForItsBytes()
    {
        var stream = new ClientEventStream();
        var bytes = Events(w => WlCallback.EmitDone(w, 3, 7));
        using var fd = new Fd(LibC.dup(0));
        var fds = new List<Fd> { fd };

        Assert.Empty(stream.Take(bytes.AsSpan(0, 5), fds));
        Assert.Empty(fds);
        var rest = stream.Take(bytes.AsSpan(5), fds);

        Assert.Equal(bytes, rest);
        Assert.Same(fd, Assert.Single(fds));
    }

    [Fact]
    public void AMalformedEventStreamIsAnError()
    {
        var stream = new ClientEventStream();
        byte[] bytes = [1, 0, 0, 0, 0, 0, 5, 0]; // size 5: not a multiple of 4
        Assert.Throws<InvalidDataException>(() => stream.Take(bytes, []));
    }

    private static byte[] Events(Action<WireWriter> write)
    {
        using var writer = new WireWriter();
        write(writer);
        return writer.Written.ToArray();
    }
}
