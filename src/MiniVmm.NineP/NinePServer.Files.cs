using static MiniVmm.NineP.NinePMessageType;

namespace MiniVmm.NineP;

/// <summary>Open files: Tlopen, Tlcreate, Tread, Twrite, Treaddir, Tfsync and the advisory locks.</summary>
public sealed partial class NinePServer
{
    /// <summary>Permission bits a guest may set on a host file: no set-user-ID or set-group-ID programs.</summary>
    private const uint CreateModeMask = 0x3FF; // 01777: rwxrwxrwx and the sticky bit

    private uint OpenFile(ushort tag, ref NinePReader fields)
    {
        uint fid = fields.U32();
        uint flags = fields.U32();
        if (!fields.Ok)
            return Errno.EPROTO;
        if (FidToOpen(fid, out var state) is not 0 and var fidError)
            return fidError;
        if (_readOnly && OpenFlags.Writes(flags))
            return Errno.EROFS;
        if (_openFiles >= MaxOpenFiles)
            return Errno.EMFILE;
        uint error = _root.Locate(state.Path, out var at);
        using (at)
        {
            if (error != 0 || (error = HostDirectory.Stat(at, out var status)) != 0)
                return error;
            // Only regular files and directories: a device node, FIFO or socket in the share is not the guest's to open.
            if (!status.IsRegular && !status.IsDirectory)
                return status.IsSymlink ? Errno.ELOOP : Errno.EPERM;
            if ((error = HostDirectory.Open(at, (int)(flags & OpenFlags.Passed), 0, out int fd)) != 0)
                return error;
            return Opened(state, fd, status, Rlopen, tag);
        }
    }

    private uint CreateFile(ushort tag, ref NinePReader fields)
    {
        uint fid = fields.U32();
        var name = fields.String();
        uint flags = fields.U32();
        uint mode = fields.U32();
        _ = fields.U32(); // gid: files belong to the host user running MiniVmm
        if (!fields.Ok)
            return Errno.EPROTO;
        if (FidToOpen(fid, out var state) is not 0 and var fidError)
            return fidError;
        if (_readOnly)
            return Errno.EROFS;
        if (CheckName(name) is not 0 and var nameError)
            return nameError;
        if (_openFiles >= MaxOpenFiles)
            return Errno.EMFILE;
        byte[][] path = [.. state.Path, name];
        uint error = _root.Locate(path, out var at);
        using (at)
        {
            int passed = (int)((flags & (OpenFlags.Passed & ~OpenFlags.Directory)) | OpenFlags.Create | (flags & OpenFlags.Exclusive));
            if (error != 0 || (error = HostDirectory.Open(at, passed, mode & CreateModeMask, out int fd)) != 0)
                return error;
            if ((error = HostDirectory.Stat(at, out var status)) != 0)
            {
                HostDirectory.Close(fd);
                return error;
            }
            state.Path = path; // the fid now names the new file, opened
            return Opened(state, fd, status, Rlcreate, tag);
        }
    }

    /// <summary>Tlopen and Tlcreate work on a fid the guest holds and has not opened yet.</summary>
    private uint FidToOpen(uint fid, out Fid state)
    {
        if (!TryGetFid(fid, out state))
            return Errno.EBADF;
        return state.OpenFd >= 0 ? Errno.EBUSY : 0;
    }

    /// <summary>Rlopen and Rlcreate: the fid now holds <paramref name="fd"/>; qid and iounit 0 (the client's msize decides).</summary>
    private uint Opened(Fid state, int fd, FileStatus status, NinePMessageType reply, ushort tag)
    {
        state.OpenFd = fd;
        _openFiles++;
        _reply.Begin(reply, tag);
        _reply.Qid(status.ToQid());
        _reply.U32(0);
        return 0;
    }

    private uint Read(ushort tag, ref NinePReader fields, int limit)
    {
        if (ReadRequest(ref fields, out var state, out ulong offset, out uint count) is not 0 and var error)
            return error;
        int room = BeginCounted(Rread, tag, count, limit, out int countAt);
        var data = _reply.Reserve(room);
        if ((error = HostDirectory.ReadAt(state.OpenFd, data, offset, out int read)) != 0)
            return error;
        _reply.Unreserve(room - read);
        _reply.PatchU32(countAt, (uint)read);
        return 0;
    }

    /// <summary>
    /// Rread and Rreaddir: count[4] (patched at <paramref name="countAt"/> once known) then data; returns the room for
    /// data: what the guest asked, within msize and the reply space it gave.
    /// </summary>
    private int BeginCounted(NinePMessageType type, ushort tag, uint count, int limit, out int countAt)
    {
        _reply.Begin(type, tag);
        countAt = _reply.Position;
        _reply.U32(0);
        return (int)Math.Min(count, (uint)_reply.RoomWithin(limit));
    }

    /// <summary>Tread and Treaddir: fid[4] offset[8] count[4], on an opened fid.</summary>
    private uint ReadRequest(ref NinePReader fields, out Fid state, out ulong offset, out uint count)
    {
        uint fid = fields.U32();
        offset = fields.U64();
        count = fields.U32();
        state = null!;
        if (!fields.Ok)
            return Errno.EPROTO;
        if (!TryGetFid(fid, out state) || state.OpenFd < 0)
            return Errno.EBADF;
        return offset > long.MaxValue ? Errno.EINVAL : 0;
    }

    private uint Write(ushort tag, ref NinePReader fields)
    {
        uint fid = fields.U32();
        ulong offset = fields.U64();
        uint count = fields.U32();
        var data = count <= int.MaxValue ? fields.Span((int)count) : default;
        if (!fields.Ok || count > int.MaxValue)
            return Errno.EPROTO;
        if (!TryGetFid(fid, out var state) || state.OpenFd < 0)
            return Errno.EBADF;
        if (_readOnly)
            return Errno.EROFS;
        if (offset > long.MaxValue)
            return Errno.EINVAL;
        uint error = HostDirectory.WriteAt(state.OpenFd, data, offset, out int written);
        if (error != 0)
            return error;
        _reply.Begin(Rwrite, tag);
        _reply.U32((uint)written);
        return 0;
    }

    private uint ReadDirectory(ushort tag, ref NinePReader fields, int limit)
    {
        if (ReadRequest(ref fields, out var state, out ulong offset, out uint count) is not 0 and var requestError)
            return requestError;
        int room = BeginCounted(Rreaddir, tag, count, limit, out int countAt);
        int used = 0;
        // Each entry: qid[13] offset[8] type[1] name[s]; its offset is the cookie that resumes after it.
        uint error = HostDirectory.ReadDirectory(state.OpenFd, offset, entry =>
        {
            int size = NinePConstants.QidSize + 8 + 1 + 2 + entry.Name.Length;
            if (used + size > room)
                return false;
            _reply.Qid(entry.ToQid());
            _reply.U64(entry.Next);
            _reply.U8(entry.Type);
            _reply.String(entry.Name);
            used += size;
            return true;
        });
        if (error != 0)
            return error;
        _reply.PatchU32(countAt, (uint)used);
        return 0;
    }

    private uint Sync(ushort tag, ref NinePReader fields)
    {
        uint fid = fields.U32();
        uint dataOnly = fields.U32();
        if (!fields.Ok)
            return Errno.EPROTO;
        if (!TryGetFid(fid, out var state) || state.OpenFd < 0)
            return Errno.EBADF;
        if (HostDirectory.Sync(state.OpenFd, dataOnly != 0) is not 0 and var error)
            return error;
        _reply.Begin(Rfsync, tag);
        return 0;
    }

    private uint Lock(ushort tag, ref NinePReader fields)
    {
        uint fid = fields.U32();
        _ = fields.U8(); // type
        _ = fields.U32(); // flags
        _ = fields.U64(); // start
        _ = fields.U64(); // length
        _ = fields.U32(); // proc_id
        _ = fields.String(); // client_id
        if (!fields.Ok)
            return Errno.EPROTO;
        if (!TryGetFid(fid, out _))
            return Errno.EBADF;
        _reply.Begin(Rlock, tag);
        _reply.U8(NinePConstants.LockSuccess);
        return 0;
    }

    private uint GetLock(ushort tag, ref NinePReader fields)
    {
        uint fid = fields.U32();
        _ = fields.U8(); // type asked about
        ulong start = fields.U64();
        ulong length = fields.U64();
        uint process = fields.U32();
        var client = fields.String();
        if (!fields.Ok)
            return Errno.EPROTO;
        if (!TryGetFid(fid, out _))
            return Errno.EBADF;
        _reply.Begin(Rgetlock, tag);
        _reply.U8(NinePConstants.LockTypeUnlocked); // nobody else holds a lock: the guest is the share's only client
        _reply.U64(start);
        _reply.U64(length);
        _reply.U32(process);
        _reply.String(client);
        return 0;
    }
}
