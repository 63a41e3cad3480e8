using static MiniVmm.NineP.NinePMessageType;

namespace MiniVmm.NineP;

/// <summary>Names and attributes: Tgetattr, Tsetattr, Tstatfs, Tmkdir, Tsymlink, Treadlink, Tlink, renames and removes.</summary>
public sealed partial class NinePServer
{
    private uint GetAttributes(ushort tag, ref NinePReader fields)
    {
        uint fid = fields.U32();
        _ = fields.U64(); // request_mask: the basic set is always filled
        if (!fields.Ok)
            return Errno.EPROTO;
        if (!TryGetFid(fid, out var state))
            return Errno.EBADF;
        if (StatPath(state.Path, out var status) is not 0 and var error)
            return error;
        _reply.Begin(Rgetattr, tag);
        _reply.U64(NinePConstants.GetattrBasic);
        _reply.Qid(status.ToQid());
        _reply.U32(status.Mode);
        _reply.U32(status.Uid);
        _reply.U32(status.Gid);
        _reply.U64(status.Links);
        _reply.U64(status.Rdev);
        _reply.U64(status.Size);
        _reply.U64(status.BlockSize);
        _reply.U64(status.Blocks);
        foreach (long time in (ReadOnlySpan<long>)[status.AtimeSec, status.AtimeNsec, status.MtimeSec, status.MtimeNsec,
                     status.CtimeSec, status.CtimeNsec, 0, 0]) // btime is not in the basic set
            _reply.U64((ulong)time);
        _reply.U64(0); // gen
        _reply.U64(0); // data_version
        return 0;
    }

    private uint SetAttributes(ushort tag, ref NinePReader fields)
    {
        uint fid = fields.U32();
        uint valid = fields.U32();
        uint mode = fields.U32();
        uint uid = fields.U32();
        uint gid = fields.U32();
        ulong size = fields.U64();
        long atimeSec = (long)fields.U64(), atimeNsec = (long)fields.U64();
        long mtimeSec = (long)fields.U64(), mtimeNsec = (long)fields.U64();
        if (!fields.Ok)
            return Errno.EPROTO;
        if (!TryGetFid(fid, out var state))
            return Errno.EBADF;
        if (_readOnly)
            return Errno.EROFS;
        uint error = _root.Locate(state.Path, out var at);
        using (at)
        {
            if (error != 0 || (error = HostDirectory.Stat(at, out var status)) != 0)
                return error;
            const uint Timestamps = NinePConstants.SetattrAtime | NinePConstants.SetattrMtime;
            if ((valid & NinePConstants.SetattrMode) != 0)
                // fchmodat follows symlinks: never call it on one (a link's own mode means nothing on Linux anyway).
                error = status.IsSymlink ? Errno.EOPNOTSUPP : HostDirectory.ChangeMode(at, mode & CreateModeMask);
            if (error == 0 && (valid & (NinePConstants.SetattrUid | NinePConstants.SetattrGid)) != 0)
                error = HostDirectory.ChangeOwner(at, (valid & NinePConstants.SetattrUid) != 0 ? uid : uint.MaxValue,
                    (valid & NinePConstants.SetattrGid) != 0 ? gid : uint.MaxValue);
            if (error == 0 && (valid & NinePConstants.SetattrSize) != 0)
                error = !status.IsRegular ? (status.IsDirectory ? Errno.EISDIR : Errno.EINVAL)
                    : size > long.MaxValue ? Errno.EINVAL : TruncateAt(at, size);
            if (error == 0 && (valid & Timestamps) != 0)
            {
                var (atime, atimeNanoseconds) = Time(valid, NinePConstants.SetattrAtime, NinePConstants.SetattrAtimeSet, atimeSec, atimeNsec);
                var (mtime, mtimeNanoseconds) = Time(valid, NinePConstants.SetattrMtime, NinePConstants.SetattrMtimeSet, mtimeSec, mtimeNsec);
                error = HostDirectory.SetTimes(at, atime, atimeNanoseconds, mtime, mtimeNanoseconds);
            }
            if (error != 0)
                return error;
        }
        _reply.Begin(Rsetattr, tag);
        return 0;
    }

    /// <summary>
    /// A time of Tsetattr as utimensat takes it: untouched (UTIME_OMIT) unless asked, the host's "now" (UTIME_NOW)
    /// unless the guest gave one; both markers go in the nanoseconds.
    /// </summary>
    private static (long Seconds, long Nanoseconds) Time(uint valid, uint change, uint given, long seconds, long nanoseconds) =>
        (valid & change) == 0 ? (0, HostDirectory.TimeOmit)
        : (valid & given) == 0 ? (0, HostDirectory.TimeNow)
        : (seconds, nanoseconds is >= 0 and < 1_000_000_000 ? nanoseconds : 0);

    private static uint TruncateAt(in HostDirectory.Location at, ulong size)
    {
        if (HostDirectory.Open(at, (int)OpenFlags.WriteOnly, 0, out int fd) is not 0 and var error)
            return error;
        error = HostDirectory.Truncate(fd, size);
        HostDirectory.Close(fd);
        return error;
    }

    private uint FileSystemStatus(ushort tag, ref NinePReader fields)
    {
        uint fid = fields.U32();
        if (!fields.Ok)
            return Errno.EPROTO;
        if (!TryGetFid(fid, out _))
            return Errno.EBADF;
        if (_root.FileSystemStatus(out var status) is not 0 and var error)
            return error;
        _reply.Begin(Rstatfs, tag);
        _reply.U32(NinePConstants.FileSystemMagic);
        _reply.U32((uint)(ulong)status.f_bsize);
        _reply.U64((ulong)status.f_blocks);
        _reply.U64((ulong)status.f_bfree);
        _reply.U64((ulong)status.f_bavail);
        _reply.U64((ulong)status.f_files);
        _reply.U64((ulong)status.f_ffree);
        _reply.U64((ulong)status.f_fsid);
        _reply.U32((uint)(ulong)status.f_namemax);
        return 0;
    }

    private uint MakeDirectory(ushort tag, ref NinePReader fields)
    {
        uint directoryFid = fields.U32();
        var name = fields.String();
        uint mode = fields.U32();
        _ = fields.U32(); // gid
        if (!fields.Ok)
            return Errno.EPROTO;
        return InDirectory(directoryFid, name, Rmkdir, tag, directory => HostDirectory.MakeDirectory(directory, name, mode & CreateModeMask));
    }

    private uint MakeSymlink(ushort tag, ref NinePReader fields)
    {
        uint directoryFid = fields.U32();
        var name = fields.String();
        var target = fields.String();
        _ = fields.U32(); // gid
        if (!fields.Ok)
            return Errno.EPROTO;
        // The target is stored as text and never followed by the server, so it may point anywhere.
        if (target.Length == 0 || target.AsSpan().IndexOf((byte)0) >= 0)
            return Errno.EINVAL;
        return InDirectory(directoryFid, name, Rsymlink, tag, directory => HostDirectory.MakeSymlink(directory, name, target));
    }

    /// <summary>Runs <paramref name="create"/> in the directory a fid names, then answers the new entry's qid.</summary>
    private uint InDirectory(uint directoryFid, byte[] name, NinePMessageType reply, ushort tag, Func<int, uint> create)
    {
        if (!TryGetFid(directoryFid, out var state))
            return Errno.EBADF;
        if (_readOnly)
            return Errno.EROFS;
        if (CheckName(name) is not 0 and var nameError)
            return nameError;
        if (WithDirectory(state.Path, create) is not 0 and var error)
            return error;
        if (StatPath([.. state.Path, name], out var status) is not 0 and var statError)
            return statError;
        _reply.Begin(reply, tag);
        _reply.Qid(status.ToQid());
        return 0;
    }

    /// <summary>Opens the directory <paramref name="path"/> names (O_PATH, no symlink followed) for an *at call.</summary>
    private uint WithDirectory(byte[][] path, Func<int, uint> action)
    {
        uint error = _root.Locate(path, out var at);
        using (at)
        {
            if (error != 0 || (error = HostDirectory.OpenDirectory(at, out int directory)) != 0)
                return error;
            try
            {
                return action(directory);
            }
            finally
            {
                HostDirectory.Close(directory);
            }
        }
    }

    private uint ReadLink(ushort tag, ref NinePReader fields)
    {
        uint fid = fields.U32();
        if (!fields.Ok)
            return Errno.EPROTO;
        if (!TryGetFid(fid, out var state))
            return Errno.EBADF;
        uint error = _root.Locate(state.Path, out var at);
        using (at)
        {
            if (error != 0 || (error = HostDirectory.ReadLink(at, out var target)) != 0)
                return error;
            _reply.Begin(Rreadlink, tag);
            _reply.String(target);
            return 0;
        }
    }

    private uint Link(ushort tag, ref NinePReader fields)
    {
        uint directoryFid = fields.U32();
        uint targetFid = fields.U32();
        var name = fields.String();
        if (!fields.Ok)
            return Errno.EPROTO;
        if (!TryGetFid(directoryFid, out var directory) || !TryGetFid(targetFid, out var target))
            return Errno.EBADF;
        if (_readOnly)
            return Errno.EROFS;
        if (CheckName(name) is not 0 and var nameError)
            return nameError;
        if (target.Path.Length == 0)
            return Errno.EPERM; // the share root
        uint error = _root.Locate(target.Path, out var at);
        using (at)
        {
            var source = at;
            if (error != 0 || (error = WithDirectory(directory.Path, into => HostDirectory.Link(source, into, name))) != 0)
                return error;
        }
        _reply.Begin(Rlink, tag);
        return 0;
    }

    private uint Rename(ushort tag, ref NinePReader fields)
    {
        uint fid = fields.U32();
        uint directoryFid = fields.U32();
        var name = fields.String();
        if (!fields.Ok)
            return Errno.EPROTO;
        if (!TryGetFid(fid, out var state) || !TryGetFid(directoryFid, out var directory))
            return Errno.EBADF;
        if (state.Path.Length == 0)
            return Errno.EBUSY;
        return Move(state.Path[..^1], state.Path[^1], directory.Path, name, Rrename, tag);
    }

    private uint RenameAt(ushort tag, ref NinePReader fields)
    {
        uint oldDirectoryFid = fields.U32();
        var oldName = fields.String();
        uint newDirectoryFid = fields.U32();
        var newName = fields.String();
        if (!fields.Ok)
            return Errno.EPROTO;
        if (!TryGetFid(oldDirectoryFid, out var oldDirectory) || !TryGetFid(newDirectoryFid, out var newDirectory))
            return Errno.EBADF;
        return Move(oldDirectory.Path, oldName, newDirectory.Path, newName, Rrenameat, tag);
    }

    /// <summary>renameat between two directories of the share; fids under the old name follow it to the new one.</summary>
    private uint Move(byte[][] fromDirectory, byte[] fromName, byte[][] toDirectory, byte[] toName, NinePMessageType reply, ushort tag)
    {
        if (_readOnly)
            return Errno.EROFS;
        if (CheckName(fromName) is not 0 and var fromError)
            return fromError;
        if (CheckName(toName) is not 0 and var toError)
            return toError;
        uint error = WithDirectory(fromDirectory, from => WithDirectory(toDirectory, to => HostDirectory.Rename(from, fromName, to, toName)));
        if (error != 0)
            return error;
        byte[][] oldPath = [.. fromDirectory, fromName], newPath = [.. toDirectory, toName];
        foreach (var fid in _fids.Values)
            if (StartsWith(fid.Path, oldPath))
                fid.Path = [.. newPath, .. fid.Path[oldPath.Length..]];
        _reply.Begin(reply, tag);
        return 0;
    }

    private static bool StartsWith(byte[][] path, byte[][] prefix)
    {
        if (path.Length < prefix.Length)
            return false;
        for (int i = 0; i < prefix.Length; i++)
            if (!path[i].AsSpan().SequenceEqual(prefix[i]))
                return false;
        return true;
    }

    private uint UnlinkAt(ushort tag, ref NinePReader fields)
    {
        uint directoryFid = fields.U32();
        var name = fields.String();
        uint flags = fields.U32();
        if (!fields.Ok)
            return Errno.EPROTO;
        if (!TryGetFid(directoryFid, out var directory))
            return Errno.EBADF;
        if (_readOnly)
            return Errno.EROFS;
        if (CheckName(name) is not 0 and var nameError)
            return nameError;
        bool isDirectory = (flags & NinePConstants.UnlinkRemoveDirectory) != 0;
        if (WithDirectory(directory.Path, into => HostDirectory.Unlink(into, name, isDirectory)) is not 0 and var error)
            return error;
        _reply.Begin(Runlinkat, tag);
        return 0;
    }

    /// <summary>Tremove: unlinks what the fid names and clunks the fid, whether or not the unlink worked (9P says so).</summary>
    private uint Remove(ushort tag, ref NinePReader fields)
    {
        if (Forget(ref fields, out var state) is not 0 and var forgetError)
            return forgetError;
        if (_readOnly)
            return Errno.EROFS;
        if (state.Path.Length == 0)
            return Errno.EBUSY;
        uint error = StatPath(state.Path, out var status);
        if (error == 0)
            error = WithDirectory(state.Path[..^1], into => HostDirectory.Unlink(into, state.Path[^1], status.IsDirectory));
        if (error != 0)
            return error;
        _reply.Begin(Rremove, tag);
        return 0;
    }
}
