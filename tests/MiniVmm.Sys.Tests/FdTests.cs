namespace MiniVmm.Sys.Tests;

public sealed class FdTests
{
    [Fact]
    public void APipeIsAPipeWithAReadOnlyNonBlockingReadEnd()
    {
        Assert.True(Pipe.TryCreate(out var readEnd, out var writeEnd, out var errno), $"errno {errno}");
        using (readEnd)
        using (writeEnd)
        {
            Assert.True(readEnd!.IsPipe && writeEnd!.IsPipe);
            Assert.Equal((FdAccess.ReadOnly, FdAccess.WriteOnly), (readEnd.Access, writeEnd.Access));
            Assert.False(readEnd.TryGetSeekLength(out _));
            Assert.Equal(-1, readEnd.Read(new byte[4], out errno));
            Assert.Equal(Errno.EAGAIN, errno);

            Assert.Equal(3, writeEnd.Write("abc"u8, out _));
            Assert.True(Poll.WaitReadable(readEnd, 1000));
            var bytes = new byte[4];
            Assert.Equal(3, readEnd.Read(bytes, out _));
            Assert.Equal("abc"u8.ToArray(), bytes[..3]);
        }
    }

    [Fact]
    public void TheSeekLengthOfAFileLeavesItsOffsetWhereItWas()
    {
        using var memfd = Memfd.TryCreate("seek", 8192, out string? error) ?? throw new InvalidOperationException(error);
        using var fd = Fd.DuplicateOf(memfd)!;
        Assert.Equal(4, fd.Write("abcd"u8, out _));
        Assert.True(fd.TryGetSeekLength(out var length));
        Assert.Equal(8192UL, length);
        Assert.Equal(4, fd.Write("efgh"u8, out _)); // still at offset 4
        var bytes = new byte[8];
        Assert.Equal(8, fd.ReadAt(bytes, 0, out _));
        Assert.Equal("abcdefgh"u8.ToArray(), bytes);
        Assert.Equal(FdAccess.ReadWrite, fd.Access);
        Assert.False(fd.IsPipe);
    }

    [Fact]
    public void AnEventFdWakesAPollOnlyOnceSignalled()
    {
        using var wake = new EventFd(nonBlocking: true);
        Assert.Equal(0, Poll.Wait(wake.Value, Poll.In, 0));
        wake.Wake();
        wake.Wake();
        Assert.Equal(1, Poll.Wait(wake.Value, Poll.In, 0));
        Assert.Equal(2UL, wake.Read());
        Assert.Equal(0UL, wake.Read());
    }

    [Fact]
    public void AFileThatDoesNotExistIsNotOpened()
    {
        Assert.Null(Fd.TryOpen("/nonexistent/minivmm", out var errno));
        Assert.Equal(Errno.ENOENT, errno);
        Assert.Equal("ENOENT (No such file or directory)", Errno.Describe(errno));
    }
}
