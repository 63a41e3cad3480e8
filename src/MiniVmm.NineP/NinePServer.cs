using static MiniVmm.NineP.NinePMessageType;

namespace MiniVmm.NineP;

/// <summary>
/// A 9P2000.L file server for one shared directory: takes a T-message, answers the R-message (or Rlerror with a Linux
/// errno). Everything the guest sends is checked here: message bounds, fids, names (no '/', no "..", none empty), the
/// read-only flag, reply sizes within msize and the space the guest gave. Paths never leave the share: see
/// <see cref="HostDirectory"/>. Advisory locks are answered as granted and not forwarded to the host (one guest is
/// the only client of a share). Not thread-safe: one device thread serves all requests, in order, which is also why
/// a name checked before an operation cannot be swapped by the guest in between.
/// </summary>
public sealed partial class NinePServer : IDisposable
{
    /// <summary>The largest msize offered (Linux asks for 512 KiB on virtio by default since 6.2, 128 KiB before).</summary>
    public const int MaxMessageSize = 512 * 1024;
    /// <summary>The smallest msize accepted: room for a header and a 4 KiB page of data.</summary>
    public const int MinMessageSize = 4096 + NinePConstants.ReadReplyOverhead;
    /// <summary>Fids the guest may hold at once (v9fs keeps one per cached dentry) and files it may have open.</summary>
    public const int MaxFids = 65536, MaxOpenFiles = 1024;

    private readonly HostDirectory _root;
    private readonly bool _readOnly;
    private readonly Dictionary<uint, Fid> _fids = [];
    private readonly NinePWriter _reply = new(MaxMessageSize);
    private int _messageSize = MaxMessageSize;
    private int _openFiles;

    public NinePServer(HostDirectory root, bool readOnly)
    {
        _root = root;
        _readOnly = readOnly;
    }

    /// <summary>The msize agreed in Tversion (the largest request or reply).</summary>
    public int MessageSize => _messageSize;

    public int FidCount => _fids.Count;
    public int OpenFileCount => _openFiles;

    /// <summary>
    /// Answers one request. <paramref name="replyLimit"/> is the space the guest gave for the reply. Returns an empty
    /// span only when the request is too short to carry a tag (there is no one to answer).
    /// </summary>
    public ReadOnlySpan<byte> Handle(ReadOnlySpan<byte> request, int replyLimit)
    {
        if (request.Length < NinePConstants.HeaderSize || replyLimit < NinePConstants.HeaderSize + 4)
            return [];
        var message = new NinePReader(request, 0);
        uint size = message.U32();
        var type = (NinePMessageType)message.U8();
        ushort tag = message.U16();
        // A size field larger than the bytes sent, or than msize, is a malformed request.
        if (size < NinePConstants.HeaderSize || size > request.Length || size > _messageSize)
            return Error(tag, Errno.EPROTO);
        var fields = new NinePReader(request[..(int)size]);
        int limit = Math.Min(replyLimit, _messageSize);
        uint error = Dispatch(type, tag, ref fields, limit);
        if (error == 0 && !fields.Ok)
            error = Errno.EPROTO; // a field ran past the message: nothing was done (handlers check before acting)
        if (error == 0 && (_reply.Overflowed || _reply.Length > limit))
            error = Errno.EPROTO;
        return error == 0 ? _reply.Finish() : Error(tag, error);
    }

    private ReadOnlySpan<byte> Error(ushort tag, uint errno)
    {
        _reply.Begin(Rlerror, tag);
        _reply.U32(errno);
        return _reply.Finish();
    }

    private uint Dispatch(NinePMessageType type, ushort tag, ref NinePReader fields, int limit) => type switch
    {
        Tversion => Version(tag, ref fields),
        Tattach => Attach(tag, ref fields),
        Twalk => Walk(tag, ref fields),
        Tclunk => Clunk(tag, ref fields),
        Tflush => Reply(Rflush, tag, fields.U16()),
        Tlopen => OpenFile(tag, ref fields),
        Tlcreate => CreateFile(tag, ref fields),
        Tread => Read(tag, ref fields, limit),
        Twrite => Write(tag, ref fields),
        Treaddir => ReadDirectory(tag, ref fields, limit),
        Tfsync => Sync(tag, ref fields),
        Tlock => Lock(tag, ref fields),
        Tgetlock => GetLock(tag, ref fields),
        Tgetattr => GetAttributes(tag, ref fields),
        Tsetattr => SetAttributes(tag, ref fields),
        Tstatfs => FileSystemStatus(tag, ref fields),
        Tmkdir => MakeDirectory(tag, ref fields),
        Tsymlink => MakeSymlink(tag, ref fields),
        Treadlink => ReadLink(tag, ref fields),
        Tlink => Link(tag, ref fields),
        Trename => Rename(tag, ref fields),
        Trenameat => RenameAt(tag, ref fields),
        Tunlinkat => UnlinkAt(tag, ref fields),
        Tremove => Remove(tag, ref fields),
        Tmknod => Errno.EPERM, // no device files, FIFOs or sockets on the host from a guest
        // Extended attributes and authentication are not offered; v9fs copes with EOPNOTSUPP for both.
        _ => Errno.EOPNOTSUPP,
    };

    /// <summary>An R-message without fields (the tag's request succeeded); the argument is read and ignored.</summary>
    private uint Reply<T>(NinePMessageType type, ushort tag, T _)
    {
        _reply.Begin(type, tag);
        return 0;
    }

    private uint Version(ushort tag, ref NinePReader fields)
    {
        uint requested = fields.U32();
        var version = fields.String();
        if (!fields.Ok)
            return Errno.EPROTO;
        if (requested < MinMessageSize)
            return Errno.EINVAL;
        // A new session: every fid of the old one is gone (9P's Tversion aborts all outstanding I/O).
        ClunkAll();
        _messageSize = (int)Math.Min(requested, MaxMessageSize);
        _reply.Begin(Rversion, tag);
        _reply.U32((uint)_messageSize);
        _reply.String(version.AsSpan().SequenceEqual(System.Text.Encoding.ASCII.GetBytes(NinePConstants.Version))
            ? System.Text.Encoding.ASCII.GetBytes(NinePConstants.Version)
            : System.Text.Encoding.ASCII.GetBytes(NinePConstants.UnknownVersion));
        return 0;
    }

    private uint Attach(ushort tag, ref NinePReader fields)
    {
        uint fid = fields.U32();
        _ = fields.U32(); // afid: no authentication
        _ = fields.String(); // uname
        _ = fields.String(); // aname: the share is the tree, whatever the guest names
        _ = fields.U32(); // n_uname
        if (!fields.Ok)
            return Errno.EPROTO;
        if (StatPath([], out var status) is not 0 and var error)
            return error;
        if (AddFid(fid, []) is not 0 and var addError)
            return addError;
        _reply.Begin(Rattach, tag);
        _reply.Qid(status.Qid);
        return 0;
    }

    private uint Walk(ushort tag, ref NinePReader fields)
    {
        uint fid = fields.U32();
        uint newFid = fields.U32();
        ushort count = fields.U16();
        if (count > NinePConstants.MaxWalkNames)
            return Errno.EINVAL;
        var names = new byte[count][];
        for (int i = 0; i < count; i++)
            names[i] = fields.String();
        if (!fields.Ok)
            return Errno.EPROTO;
        if (!_fids.TryGetValue(fid, out var from))
            return Errno.EBADF;
        if (newFid != fid && _fids.ContainsKey(newFid))
            return Errno.EINVAL;

        var path = from.Path;
        var qids = new List<Qid>(count);
        foreach (var name in names)
        {
            byte[][] next;
            if (name.AsSpan().SequenceEqual(".."u8))
                next = path.Length == 0 ? path : path[..^1]; // ".." of the share root is the root
            else if (CheckName(name) is not 0 and var nameError)
                return qids.Count == 0 ? nameError : WalkReply(tag, qids);
            else
                next = [.. path, name];
            uint error = StatPath(next, out var status);
            if (error != 0)
                return qids.Count == 0 ? error : WalkReply(tag, qids); // a partial walk: newfid is not made
            qids.Add(status.Qid);
            path = next;
        }
        if (newFid == fid)
        {
            if (from.OpenFd >= 0)
                return Errno.EBUSY; // an open fid keeps naming the file it opened
            from.Path = path;
        }
        else if (AddFid(newFid, path) is not 0 and var addError)
            return addError;
        return WalkReply(tag, qids);
    }

    private uint WalkReply(ushort tag, List<Qid> qids)
    {
        _reply.Begin(Rwalk, tag);
        _reply.U16((ushort)qids.Count);
        foreach (var qid in qids)
            _reply.Qid(qid);
        return 0;
    }

    private uint Clunk(ushort tag, ref NinePReader fields)
    {
        if (Forget(ref fields, out _) is not 0 and var error)
            return error;
        _reply.Begin(Rclunk, tag);
        return 0;
    }

    /// <summary>Tclunk and Tremove: the fid named by fid[4] is gone (its file closed) whatever happens next.</summary>
    private uint Forget(ref NinePReader fields, out Fid state)
    {
        uint fid = fields.U32();
        state = null!;
        if (!fields.Ok)
            return Errno.EPROTO;
        if (!_fids.Remove(fid, out state!))
            return Errno.EBADF;
        Close(state);
        return 0;
    }

    private uint AddFid(uint fid, byte[][] path)
    {
        if (fid == NinePConstants.NoFid || _fids.ContainsKey(fid))
            return Errno.EINVAL;
        if (_fids.Count >= MaxFids)
            return Errno.ENFILE;
        _fids[fid] = new Fid { Path = path };
        return 0;
    }

    private void Close(Fid fid)
    {
        if (fid.OpenFd < 0)
            return;
        HostDirectory.Close(fid.OpenFd);
        fid.OpenFd = -1;
        _openFiles--;
    }

    private void ClunkAll()
    {
        foreach (var fid in _fids.Values)
            Close(fid);
        _fids.Clear();
    }

    public void Dispose() => ClunkAll();

    /// <summary>A name the guest may create or look up: 1–255 bytes, no '/', no NUL, not "." or "..".</summary>
    internal static uint CheckName(byte[] name)
    {
        if (name.Length == 0 || name.AsSpan().SequenceEqual("."u8) || name.AsSpan().SequenceEqual(".."u8))
            return Errno.EINVAL;
        if (name.Length > 255)
            return Errno.ENAMETOOLONG;
        return name.AsSpan().IndexOfAny((byte)'/', (byte)0) >= 0 ? Errno.EINVAL : 0;
    }

    private uint StatPath(byte[][] path, out FileStatus status)
    {
        status = default;
        uint error = _root.Locate(path, out var at);
        using (at)
            return error != 0 ? error : HostDirectory.Stat(at, out status);
    }

    private bool TryGetFid(uint fid, out Fid state) => _fids.TryGetValue(fid, out state!);

    /// <summary>What the guest holds under one fid: a path inside the share (no symlinks on the way) and, once opened, the fd.</summary>
    private sealed class Fid
    {
        public byte[][] Path = [];
        public int OpenFd = -1;
    }
}
