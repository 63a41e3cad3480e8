using System.Text;
using static MiniVmm.NineP.NinePMessageType;

namespace MiniVmm.NineP.Tests;

public sealed class NinePServerTests
{
    [Fact]
    public void Version_negotiates_the_smaller_msize_and_names_only_9P2000_L()
    {
        using var share = new ShareFixture();
        var reply = share.Client.Version(8192).Expect(Rversion);
        Assert.Equal(8192u, reply.U32(0));
        Assert.Equal("9P2000.L", Encoding.ASCII.GetString(reply.Data(6, reply.Body[4])));
        Assert.Equal((uint)NinePServer.MaxMessageSize, share.Client.Version(16 << 20).Expect(Rversion).U32(0));
        var other = share.Client.Version(8192, "9P2000.u").Expect(Rversion);
        Assert.Equal("unknown", Encoding.ASCII.GetString(other.Data(6, other.Body[4])));
        Assert.Equal(Errno.EINVAL, share.Client.Version(512).Errno);
    }

    [Fact]
    public void Version_clunks_every_fid_of_the_old_session()
    {
        using var share = new ShareFixture();
        share.OpenAt(1, 0, "hello.txt");
        Assert.Equal(1, share.Server.OpenFileCount);
        share.Client.Version(65536).Expect(Rversion);
        Assert.Equal(0, share.Server.FidCount);
        Assert.Equal(0, share.Server.OpenFileCount);
        Assert.Equal(Errno.EBADF, share.Client.Read(1, 0, 10).Errno);
    }

    [Fact]
    public void Walk_open_and_read_a_host_file()
    {
        using var share = new ShareFixture();
        var walk = share.Client.Walk(ShareFixture.Root, 1, "dir", "inner.txt").Expect(Rwalk);
        Assert.Equal(2, walk.Body[0]);
        Assert.Equal(NinePConstants.QidTypeDirectory, walk.Body[2]);
        share.Client.Open(1, 0).Expect(Rlopen);
        Assert.Equal("inner", share.ReadAll(1));
        var tail = share.Client.Read(1, 2, 100).Expect(Rread);
        Assert.Equal("ner", Encoding.UTF8.GetString(tail.Data(4, (int)tail.U32(0))));
        share.Client.Clunk(1).Expect(Rclunk);
        Assert.Equal(0, share.Server.OpenFileCount);
    }

    [Fact]
    public void A_walk_that_fails_part_way_returns_the_qids_found_and_makes_no_fid()
    {
        using var share = new ShareFixture();
        var partial = share.Client.Walk(ShareFixture.Root, 1, "dir", "missing", "x").Expect(Rwalk);
        Assert.Equal(1, partial.Body[0]);
        Assert.Equal(Errno.EBADF, share.Client.GetAttributes(1).Errno);
        Assert.Equal(Errno.ENOENT, share.Client.Walk(ShareFixture.Root, 1, "missing").Errno);
        // Through a file: one qid, and a fid walked in place keeps naming what it named.
        Assert.Equal(1, share.Client.Walk(ShareFixture.Root, ShareFixture.Root, "hello.txt", "again").Expect(Rwalk).Body[0]);
        Assert.Equal(NinePConstants.QidTypeDirectory, share.Client.GetAttributes(ShareFixture.Root).Expect(Rgetattr).Body[8]);
    }

    [Fact]
    public void Create_write_and_read_back_on_the_host()
    {
        using var share = new ShareFixture();
        share.Client.Walk(ShareFixture.Root, 1, "dir").Expect(Rwalk);
        share.Client.Create(1, "new.txt", OpenFlags.ReadWrite, 0x1A4).Expect(Rlcreate);
        Assert.Equal(5u, share.Client.Write(1, 0, "guest"u8.ToArray()).Expect(Rwrite).U32(0));
        share.Client.Write(1, 5, " data"u8.ToArray()).Expect(Rwrite);
        share.Client.Sync(1).Expect(Rfsync);
        Assert.Equal("guest data", File.ReadAllText(share.HostPath("dir/new.txt")));
        Assert.Equal("guest data", share.ReadAll(1));
        Assert.Equal(Errno.EEXIST, Create(share, 2, "dir", "new.txt", OpenFlags.ReadWrite | OpenFlags.Exclusive));
    }

    private static uint Create(ShareFixture share, uint fid, string directory, string name, uint flags)
    {
        share.Client.Walk(ShareFixture.Root, fid, directory).Expect(Rwalk);
        return share.Client.Create(fid, name, flags, 0x1A4).Errno;
    }

    [Fact]
    public void Getattr_and_setattr_reach_the_host_file()
    {
        using var share = new ShareFixture();
        share.Client.Walk(ShareFixture.Root, 1, "hello.txt").Expect(Rwalk);
        var attributes = share.Client.GetAttributes(1).Expect(Rgetattr);
        Assert.Equal(NinePConstants.GetattrBasic, attributes.U64(0));
        Assert.Equal(FileStatus.Regular, attributes.U32(21) & FileStatus.TypeMask);
        Assert.Equal((ulong)new FileInfo(share.HostPath("hello.txt")).Length, attributes.U64(21 + 12 + 16));
        share.Client.SetAttributes(1, NinePConstants.SetattrSize, size: 5).Expect(Rsetattr);
        Assert.Equal("hello", File.ReadAllText(share.HostPath("hello.txt")));
        share.Client.SetAttributes(1, NinePConstants.SetattrMode, mode: 0x180).Expect(Rsetattr); // 0600
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(share.HostPath("hello.txt")));
        share.Client.SetAttributes(1, NinePConstants.SetattrMtime | NinePConstants.SetattrMtimeSet, mtime: 1_000_000_000).Expect(Rsetattr);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_000_000_000).UtcDateTime, File.GetLastWriteTimeUtc(share.HostPath("hello.txt")));
    }

    [Fact]
    public void Readdir_pages_through_every_entry_with_the_offsets_it_returned()
    {
        using var share = new ShareFixture();
        for (int i = 0; i < 40; i++)
            File.WriteAllText(share.HostPath($"dir/file-{i:D2}"), "");
        share.OpenAt(1, OpenFlags.Directory, "dir");
        var names = new List<string>();
        ulong offset = 0;
        while (true)
        {
            var entries = NinePClient.Entries(share.Client.ReadDirectory(1, offset, 200).Expect(Rreaddir));
            if (entries.Count == 0)
                break;
            names.AddRange(entries.Select(e => e.Name));
            offset = entries[^1].Offset;
        }
        var expected = Enumerable.Range(0, 40).Select(i => $"file-{i:D2}").Append("inner.txt").Append(".").Append("..").Order();
        Assert.Equal(expected, names.Order());
    }

    [Fact]
    public void Mkdir_symlink_readlink_link_rename_and_unlink()
    {
        using var share = new ShareFixture();
        share.Client.MakeDirectory(ShareFixture.Root, "made", 0x1ED).Expect(Rmkdir);
        Assert.True(Directory.Exists(share.HostPath("made")));
        share.Client.Symlink(ShareFixture.Root, "link", "hello.txt").Expect(Rsymlink);
        share.Client.Walk(ShareFixture.Root, 1, "link").Expect(Rwalk);
        Assert.Equal("hello.txt", Encoding.UTF8.GetString(share.Client.ReadLink(1).Expect(Rreadlink).Data(2, 9)));
        share.Client.Walk(ShareFixture.Root, 2, "hello.txt").Expect(Rwalk);
        share.Client.Link(ShareFixture.Root, 2, "hard.txt").Expect(Rlink);
        Assert.Equal("hello from the host\n", File.ReadAllText(share.HostPath("hard.txt")));

        // A fid under a renamed directory follows it.
        share.Client.Walk(ShareFixture.Root, 3, "dir", "inner.txt").Expect(Rwalk);
        share.Client.RenameAt(ShareFixture.Root, "dir", ShareFixture.Root, "moved").Expect(Rrenameat);
        Assert.True(File.Exists(share.HostPath("moved/inner.txt")));
        share.Client.Open(3, 0).Expect(Rlopen);
        Assert.Equal("inner", share.ReadAll(3));

        share.Client.UnlinkAt(ShareFixture.Root, "hard.txt", 0).Expect(Runlinkat);
        share.Client.UnlinkAt(ShareFixture.Root, "made", NinePConstants.UnlinkRemoveDirectory).Expect(Runlinkat);
        Assert.False(File.Exists(share.HostPath("hard.txt")));
        Assert.False(Directory.Exists(share.HostPath("made")));
        share.Client.Remove(2).Expect(Rremove);
        Assert.False(File.Exists(share.HostPath("hello.txt")));
    }

    [Fact]
    public void Locks_are_granted_and_statfs_names_v9fs()
    {
        using var share = new ShareFixture();
        share.OpenAt(1, OpenFlags.ReadWrite, "hello.txt");
        Assert.Equal(NinePConstants.LockSuccess, share.Client.Lock(1).Expect(Rlock).Body[0]);
        var getlock = share.Client.GetLock(1).Expect(Rgetlock);
        Assert.Equal(NinePConstants.LockTypeUnlocked, getlock.Body[0]);
        Assert.Equal(5ul, getlock.U64(1));
        Assert.Equal(NinePConstants.FileSystemMagic, share.Client.FileSystemStatus(ShareFixture.Root).Expect(Rstatfs).U32(0));
    }
}
