using System.Text;
using static MiniVmm.NineP.NinePMessageType;

namespace MiniVmm.NineP.Tests;

/// <summary>Every way out of a share, and the read-only flag: each must fail and leave the host as it was.</summary>
public sealed class NinePConfinementTests
{
    [Fact]
    public void Dot_dot_at_the_root_stays_at_the_root()
    {
        using var share = new ShareFixture();
        var root = share.Client.GetAttributes(ShareFixture.Root).Expect(Rgetattr).Data(8, 13);
        share.Client.Walk(ShareFixture.Root, 1, "..", "..", "..").Expect(Rwalk);
        Assert.Equal(root, share.Client.GetAttributes(1).Expect(Rgetattr).Data(8, 13));
        // "secret.txt" beside the share is not found from its root: the walk stops after "..".
        Assert.Equal(1, share.Client.Walk(ShareFixture.Root, 2, "..", "secret.txt").Expect(Rwalk).Body[0]);
        Assert.Equal(Errno.EBADF, share.Client.GetAttributes(2).Errno);
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData(".")]
    [InlineData("")]
    [InlineData("x\0y")]
    public void Names_with_a_slash_or_nul_or_empty_are_refused(string name)
    {
        using var share = new ShareFixture();
        Assert.Equal(Errno.EINVAL, share.Client.Walk(ShareFixture.Root, 1, name).Errno);
        Assert.Equal(Errno.EINVAL, share.Client.MakeDirectory(ShareFixture.Root, name, 0x1ED).Errno);
        share.Client.Walk(ShareFixture.Root, 2).Expect(Rwalk);
        Assert.Equal(Errno.EINVAL, share.Client.Create(2, name, OpenFlags.ReadWrite, 0x1A4).Errno);
    }

    [Fact]
    public void Symlinks_are_never_followed_by_the_server()
    {
        using var share = new ShareFixture();
        // One the host left, one the guest made: both point outside.
        File.CreateSymbolicLink(share.HostPath("host-link"), share.Parent);
        share.Client.Symlink(ShareFixture.Root, "guest-link", "../secret.txt").Expect(Rsymlink);
        share.Client.Symlink(ShareFixture.Root, "guest-dir", "..").Expect(Rsymlink);

        // Walks stop at the link: its qid, and nothing beyond it.
        Assert.Equal(1, share.Client.Walk(ShareFixture.Root, 1, "host-link", "secret.txt").Expect(Rwalk).Body[0]);
        var through = share.Client.Walk(ShareFixture.Root, 1, "guest-dir", "share", "..", "secret.txt");
        Assert.Equal(1, through.Expect(Rwalk).Body[0]); // "guest-dir" itself, not the parent it names
        share.Client.Walk(ShareFixture.Root, 2, "guest-link").Expect(Rwalk);
        Assert.Equal(Errno.ELOOP, share.Client.Open(2, 0).Errno);
        // chmod/truncate on a link must not reach its target.
        Assert.NotEqual(0u, share.Client.SetAttributes(2, NinePConstants.SetattrMode, mode: 0x1FF).Errno);
        Assert.NotEqual(0u, share.Client.SetAttributes(2, NinePConstants.SetattrSize, size: 0).Errno);
        Assert.Equal("SECRET", File.ReadAllText(Path.Combine(share.Parent, "secret.txt")));
        Assert.NotEqual(UnixFileMode.OtherWrite, File.GetUnixFileMode(Path.Combine(share.Parent, "secret.txt")) & UnixFileMode.OtherWrite);
        // Creating through a symlinked directory fails too.
        share.Client.Walk(ShareFixture.Root, 3, "host-link").Expect(Rwalk);
        Assert.NotEqual(0u, share.Client.Create(3, "planted", OpenFlags.ReadWrite, 0x1A4).Errno);
        Assert.NotEqual(0u, share.Client.MakeDirectory(3, "planted", 0x1ED).Errno);
        Assert.False(File.Exists(Path.Combine(share.Parent, "planted")));
    }

    [Fact]
    public void Device_files_and_fifos_are_not_opened()
    {
        using var share = new ShareFixture();
        File.CreateSymbolicLink(share.HostPath("null"), "/dev/null");
        Assert.Equal(0, MakeFifo(share.HostPath("fifo")));
        share.Client.Walk(ShareFixture.Root, 1, "fifo").Expect(Rwalk);
        Assert.Equal(Errno.EPERM, share.Client.Open(1, 0).Errno); // would block forever on a FIFO nobody writes
        Assert.Equal(Errno.EPERM, share.Client.Send(Tmknod, m =>
        {
            NinePClient.U32(m, ShareFixture.Root); NinePClient.Str(m, "dev"); NinePClient.U32(m, 0x2000 | 0x1B6);
            NinePClient.U32(m, 1); NinePClient.U32(m, 3); NinePClient.U32(m, 0);
        }).Errno);
    }

    private static int MakeFifo(string path)
    {
        using var process = System.Diagnostics.Process.Start("mkfifo", path);
        process.WaitForExit();
        return process.ExitCode;
    }

    [Fact]
    public void A_read_only_share_refuses_every_change_and_still_reads()
    {
        using var share = new ShareFixture(readOnly: true);
        share.OpenAt(1, 0, "hello.txt");
        Assert.Equal("hello from the host\n", share.ReadAll(1));
        share.Client.Walk(ShareFixture.Root, 2, "hello.txt").Expect(Rwalk);
        Assert.Equal(Errno.EROFS, share.Client.Open(2, OpenFlags.WriteOnly).Errno);
        Assert.Equal(Errno.EROFS, share.Client.Open(2, OpenFlags.Truncate).Errno);
        Assert.Equal(Errno.EROFS, share.Client.Write(1, 0, "x"u8.ToArray()).Errno);
        Assert.Equal(Errno.EROFS, share.Client.SetAttributes(2, NinePConstants.SetattrSize, size: 0).Errno);
        Assert.Equal(Errno.EROFS, share.Client.MakeDirectory(ShareFixture.Root, "d", 0x1ED).Errno);
        Assert.Equal(Errno.EROFS, share.Client.Symlink(ShareFixture.Root, "s", "t").Errno);
        Assert.Equal(Errno.EROFS, share.Client.UnlinkAt(ShareFixture.Root, "hello.txt", 0).Errno);
        Assert.Equal(Errno.EROFS, share.Client.RenameAt(ShareFixture.Root, "hello.txt", ShareFixture.Root, "x").Errno);
        Assert.Equal(Errno.EROFS, share.Client.Link(ShareFixture.Root, 2, "x").Errno);
        Assert.Equal(Errno.EROFS, share.Client.Remove(2).Errno);
        share.Client.Walk(ShareFixture.Root, 3).Expect(Rwalk);
        Assert.Equal(Errno.EROFS, share.Client.Create(3, "new", OpenFlags.ReadWrite, 0x1A4).Errno);
        Assert.Equal(["dir", "hello.txt"], Directory.EnumerateFileSystemEntries(share.SharePath).Select(Path.GetFileName).Order());
        Assert.Equal("hello from the host\n", File.ReadAllText(share.HostPath("hello.txt")));
    }

    [Fact]
    public void Malformed_messages_get_EPROTO_and_the_server_keeps_serving()
    {
        using var share = new ShareFixture();
        foreach (NinePMessageType type in Enum.GetValues<NinePMessageType>().Where(t => (byte)t % 2 == 0 && t is not Tversion and not Tflush))
        {
            // Only a header and two bytes: too short for every request with fields.
            var reply = share.Client.Send(type, m => m.AddRange(new byte[] { 1, 2 }));
            Assert.True(reply.Type == Rlerror, $"{type} with 2 bytes of fields was answered {reply.Type}");
        }
        // A size field that claims more than was sent.
        var lying = new byte[] { 0xFF, 0, 0, 0, (byte)Tclunk, 1, 0, 0, 0, 0, 0 };
        var answer = share.Server.Handle(lying, 4096).ToArray();
        Assert.Equal((byte)Rlerror, answer[4]);
        Assert.Equal(Errno.EPROTO, BitConverter.ToUInt32(answer, 7));
        Assert.True(share.Server.Handle([1, 2, 3], 4096).IsEmpty);
        share.Client.GetAttributes(ShareFixture.Root).Expect(Rgetattr);
    }

    [Fact]
    public void Random_requests_never_throw_and_always_answer_their_tag()
    {
        using var share = new ShareFixture();
        var random = new Random(9);
        var types = Enum.GetValues<NinePMessageType>();
        for (int i = 0; i < 20000; i++)
        {
            var fields = new byte[random.Next(0, 64)];
            random.NextBytes(fields);
            // Small fids so that some requests hit the attached root and the fids made along the way.
            for (int f = 0; f + 4 <= fields.Length && f < 8; f += 4)
                fields[f + 1] = fields[f + 2] = fields[f + 3] = 0;
            var type = types[random.Next(types.Length)];
            if (type is Tremove or Tunlinkat or Trenameat or Trename or Tsetattr or Tversion)
                continue; // the fixture's files stay; Tversion would end the session
            share.Client.Send(type, m => m.AddRange(fields));
        }
        share.Client.Attach(123_456).Expect(Rattach); // fid 0 may have been clunked on the way
        share.Client.GetAttributes(123_456).Expect(Rgetattr);
        Assert.Equal("SECRET", File.ReadAllText(Path.Combine(share.Parent, "secret.txt")));
    }

    [Fact]
    public void Reads_fit_the_space_the_guest_gave_and_counts_are_capped()
    {
        using var share = new ShareFixture(replyLimit: 64);
        File.WriteAllBytes(share.HostPath("big"), new byte[100_000]);
        share.OpenAt(1, 0, "big");
        var reply = share.Client.Read(1, 0, uint.MaxValue).Expect(Rread);
        Assert.Equal(64u - NinePConstants.ReadReplyOverhead, reply.U32(0));
        share.Client.Walk(ShareFixture.Root, 2).Expect(Rwalk);
        Assert.Equal(Errno.EBUSY, share.Client.Open(1, 0).Errno);
    }

    [Fact]
    public void Open_files_and_fids_are_capped()
    {
        using var share = new ShareFixture();
        for (uint fid = 1; fid <= NinePServer.MaxOpenFiles; fid++)
            share.OpenAt(fid, 0, "hello.txt");
        share.Client.Walk(ShareFixture.Root, 5000, "hello.txt").Expect(Rwalk);
        Assert.Equal(Errno.EMFILE, share.Client.Open(5000, 0).Errno);
        share.Client.Clunk(1).Expect(Rclunk);
        share.Client.Open(5000, 0).Expect(Rlopen);
        for (uint fid = 10_000; share.Server.FidCount < NinePServer.MaxFids; fid++)
            share.Client.Walk(ShareFixture.Root, fid).Expect(Rwalk);
        Assert.Equal(Errno.ENFILE, share.Client.Walk(ShareFixture.Root, 999_999).Errno);
    }
}
