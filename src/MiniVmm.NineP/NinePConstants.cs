namespace MiniVmm.NineP;

/// <summary>9P2000.L message types, as Linux's include/net/9p/9p.h numbers them (T = request, R = its reply).</summary>
public enum NinePMessageType : byte
{
    Tlerror = 6, Rlerror = 7,
    Tstatfs = 8, Rstatfs = 9,
    Tlopen = 12, Rlopen = 13,
    Tlcreate = 14, Rlcreate = 15,
    Tsymlink = 16, Rsymlink = 17,
    Tmknod = 18, Rmknod = 19,
    Trename = 20, Rrename = 21,
    Treadlink = 22, Rreadlink = 23,
    Tgetattr = 24, Rgetattr = 25,
    Tsetattr = 26, Rsetattr = 27,
    Txattrwalk = 30, Rxattrwalk = 31,
    Txattrcreate = 32, Rxattrcreate = 33,
    Treaddir = 40, Rreaddir = 41,
    Tfsync = 50, Rfsync = 51,
    Tlock = 52, Rlock = 53,
    Tgetlock = 54, Rgetlock = 55,
    Tlink = 70, Rlink = 71,
    Tmkdir = 72, Rmkdir = 73,
    Trenameat = 74, Rrenameat = 75,
    Tunlinkat = 76, Runlinkat = 77,
    Tversion = 100, Rversion = 101,
    Tauth = 102, Rauth = 103,
    Tattach = 104, Rattach = 105,
    Tflush = 108, Rflush = 109,
    Twalk = 110, Rwalk = 111,
    Tread = 116, Rread = 117,
    Twrite = 118, Rwrite = 119,
    Tclunk = 120, Rclunk = 121,
    Tremove = 122, Rremove = 123,
}

/// <summary>Protocol constants of 9P2000.L.</summary>
public static class NinePConstants
{
    public const string Version = "9P2000.L";
    public const string UnknownVersion = "unknown";
    /// <summary>size[4] type[1] tag[2].</summary>
    public const int HeaderSize = 7;
    /// <summary>Rread/Rreaddir: header + count[4] before the data.</summary>
    public const int ReadReplyOverhead = HeaderSize + 4;
    public const ushort NoTag = 0xFFFF;
    public const uint NoFid = 0xFFFFFFFF;
    /// <summary>P9_MAXWELEM: at most this many names in one Twalk.</summary>
    public const int MaxWalkNames = 16;
    /// <summary>Qid sizes: type[1] version[4] path[8].</summary>
    public const int QidSize = 13;
    /// <summary>V9FS_MAGIC, the f_type Rstatfs reports.</summary>
    public const uint FileSystemMagic = 0x01021997;

    // Qid types (the high byte of the Plan 9 mode).
    public const byte QidTypeDirectory = 0x80;
    public const byte QidTypeSymlink = 0x02;
    public const byte QidTypeFile = 0x00;

    /// <summary>P9_STATS_BASIC: the Rgetattr fields a server fills (mode through blocks and the three times).</summary>
    public const ulong GetattrBasic = 0x000007FF;

    // Tsetattr valid bits (P9_ATTR_*).
    public const uint SetattrMode = 0x001, SetattrUid = 0x002, SetattrGid = 0x004, SetattrSize = 0x008;
    public const uint SetattrAtime = 0x010, SetattrMtime = 0x020, SetattrAtimeSet = 0x080, SetattrMtimeSet = 0x100;

    /// <summary>Tunlinkat's flag for directories (AT_REMOVEDIR).</summary>
    public const uint UnlinkRemoveDirectory = 0x200;

    /// <summary>Rlock status P9_LOCK_SUCCESS; Rgetlock type F_UNLCK.</summary>
    public const byte LockSuccess = 0, LockTypeUnlocked = 2;
}

/// <summary>The Linux errno values the server answers in Rlerror (x86-64 numbering, which 9P2000.L carries as is).</summary>
public static class Errno
{
    public const uint EPERM = 1, ENOENT = 2, EIO = 5, EBADF = 9, EACCES = 13, EBUSY = 16, EEXIST = 17, ENOTDIR = 20;
    public const uint EISDIR = 21, EINVAL = 22, ENFILE = 23, EMFILE = 24, EROFS = 30, ENAMETOOLONG = 36, ENOTEMPTY = 39;
    public const uint ELOOP = 40, EPROTO = 71, EOPNOTSUPP = 95, EXDEV = 18;
}

/// <summary>Tlopen/Tlcreate flags (P9_DOTL_*, equal to Linux x86-64 O_* values); the server passes on only these.</summary>
public static class OpenFlags
{
    public const uint AccessMode = 0x3, WriteOnly = 0x1, ReadWrite = 0x2;
    public const uint Create = 0x40, Exclusive = 0x80, Truncate = 0x200, Append = 0x400, DataSync = 0x1000;
    public const uint Directory = 0x10000, Sync = 0x101000;

    /// <summary>What a guest may ask of an open: access mode, truncate, append, directory, sync. Not O_NOATIME (needs
    /// ownership), O_DIRECT (alignment the guest cannot see), O_NONBLOCK/O_ASYNC (the host fd's business).</summary>
    public const uint Passed = AccessMode | Truncate | Append | Directory | Sync | DataSync;

    public static bool Writes(uint flags) => (flags & AccessMode) != 0 || (flags & (Truncate | Append | Create)) != 0;
}
