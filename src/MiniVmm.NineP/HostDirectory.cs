using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace MiniVmm.NineP;

/// <summary>What the server needs of a file's stat.</summary>
public readonly record struct FileStatus(uint Mode, uint Uid, uint Gid, ulong Links, ulong Rdev, ulong Size, ulong BlockSize,
    ulong Blocks, long AtimeSec, long AtimeNsec, long MtimeSec, long MtimeNsec, long CtimeSec, long CtimeNsec, ulong Inode)
{
    public const uint TypeMask = 0xF000, Directory = 0x4000, Regular = 0x8000, Symlink = 0xA000;
    public bool IsDirectory => (Mode & TypeMask) == Directory;
    public bool IsRegular => (Mode & TypeMask) == Regular;
    public bool IsSymlink => (Mode & TypeMask) == Symlink;

    public Qid Qid => new(IsDirectory ? NinePConstants.QidTypeDirectory : IsSymlink ? NinePConstants.QidTypeSymlink : NinePConstants.QidTypeFile,
        (uint)(MtimeSec ^ MtimeNsec), Inode);
}

/// <summary>
/// A shared host directory, held open as an O_PATH fd, and the *at system calls the server makes relative to it.
/// Why fds and not paths: every intermediate directory is opened with O_DIRECTORY|O_NOFOLLOW from the one before,
/// starting at the share's own fd, so a symlink (made by the guest or anyone) is never followed on the way and no
/// name can lead outside the share; the last step is an *at call with AT_SYMLINK_NOFOLLOW or O_NOFOLLOW.
/// Results are 0 or a Linux errno (the value Rlerror carries).
/// </summary>
public sealed unsafe partial class HostDirectory : IDisposable
{
    private static readonly int PathFlags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    private int _fd;

    private HostDirectory(int fd) => _fd = fd;

    /// <summary>Opens <paramref name="path"/> (which must be a directory) as a share root; throws with a one-line reason.</summary>
    public static HostDirectory Open(string path)
    {
        int fd = OpenAt(AT_FDCWD, System.Text.Encoding.UTF8.GetBytes(Path.GetFullPath(path)), O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        if (fd < 0)
            throw new IOException($"cannot open shared directory {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
        return new HostDirectory(fd);
    }

    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
            _ = close(fd);
    }

    /// <summary>
    /// The directory holding the last component of <paramref name="components"/>, and that component's name ("."
    /// for the root). Dispose the result to close the directory fd it opened.
    /// </summary>
    public uint Locate(IReadOnlyList<byte[]> components, out Location location)
    {
        location = new Location(_fd, Dot, owns: false);
        if (components.Count == 0)
            return 0;
        int directory = _fd;
        for (int i = 0; i < components.Count - 1; i++)
        {
            int next = OpenAt(directory, components[i], PathFlags, 0);
            uint error = next < 0 ? (uint)errno : 0;
            if (directory != _fd)
                _ = close(directory);
            if (next < 0)
                return error == Errno.ELOOP ? Errno.ENOTDIR : error; // a symlink where a directory must be
            directory = next;
        }
        location = new Location(directory, components[^1], owns: directory != _fd);
        return 0;
    }

    /// <summary>A directory fd and a name in it; owns the fd unless it is the share root's.</summary>
    public readonly struct Location(int directory, byte[] name, bool owns) : IDisposable
    {
        public int Directory { get; } = directory;
        public byte[] Name { get; } = name;

        public void Dispose()
        {
            if (owns)
                _ = close(Directory);
        }
    }

    internal static readonly byte[] Dot = "."u8.ToArray();

    public static uint Stat(in Location at, out FileStatus status)
    {
        stat buffer;
        int result;
        fixed (byte* name = Terminated(at.Name))
            result = fstatat(at.Directory, name, &buffer, AT_SYMLINK_NOFOLLOW);
        status = result < 0 ? default : new FileStatus((uint)buffer.st_mode, (uint)buffer.st_uid, (uint)buffer.st_gid, (ulong)buffer.st_nlink,
            (ulong)buffer.st_rdev, (ulong)(long)buffer.st_size, (ulong)(long)buffer.st_blksize, (ulong)(long)buffer.st_blocks,
            buffer.st_atim.tv_sec, buffer.st_atim.tv_nsec, buffer.st_mtim.tv_sec, buffer.st_mtim.tv_nsec,
            buffer.st_ctim.tv_sec, buffer.st_ctim.tv_nsec, (ulong)buffer.st_ino);
        return result < 0 ? (uint)errno : 0;
    }

    /// <summary>openat with O_NOFOLLOW|O_CLOEXEC|O_NONBLOCK added (never blocks on a FIFO a host process left there).</summary>
    public static uint Open(in Location at, int flags, uint mode, out int fd)
    {
        fd = OpenAt(at.Directory, at.Name, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, mode);
        return fd < 0 ? (uint)errno : 0;
    }

    /// <summary>Opens a located directory as a directory fd (O_PATH) for *at calls inside it.</summary>
    public static uint OpenDirectory(in Location at, out int fd)
    {
        fd = OpenAt(at.Directory, at.Name, PathFlags, 0);
        return fd < 0 ? ((uint)errno == Errno.ELOOP ? Errno.ENOTDIR : (uint)errno) : 0;
    }

    public static uint MakeDirectory(int directory, byte[] name, uint mode)
    {
        fixed (byte* path = Terminated(name))
            return mkdirat(directory, path, (mode_t)mode) < 0 ? (uint)errno : 0;
    }

    public static uint Unlink(int directory, byte[] name, bool isDirectory)
    {
        fixed (byte* path = Terminated(name))
            return unlinkat(directory, path, isDirectory ? AT_REMOVEDIR : 0) < 0 ? (uint)errno : 0;
    }

    public static uint MakeSymlink(int directory, byte[] name, byte[] target)
    {
        fixed (byte* path = Terminated(name))
        fixed (byte* destination = Terminated(target))
            return symlinkat(destination, directory, path) < 0 ? (uint)errno : 0;
    }

    public static uint ReadLink(in Location at, out byte[] target)
    {
        var buffer = new byte[4096];
        long length;
        fixed (byte* path = Terminated(at.Name))
        fixed (byte* data = buffer)
            length = readlinkat(at.Directory, path, data, (size_t)buffer.Length);
        target = length < 0 ? [] : buffer.AsSpan(0, (int)length).ToArray();
        return length < 0 ? (uint)errno : 0;
    }

    public static uint ChangeMode(in Location at, uint mode)
    {
        fixed (byte* path = Terminated(at.Name))
            return fchmodat(at.Directory, path, (mode_t)mode, 0) < 0 ? (uint)errno : 0;
    }

    public static uint ChangeOwner(in Location at, uint uid, uint gid)
    {
        fixed (byte* path = Terminated(at.Name))
            return fchownat(at.Directory, path, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ? (uint)errno : 0;
    }

    /// <summary>UTIME_NOW / UTIME_OMIT as utimensat(2) defines them.</summary>
    public const long TimeNow = (1L << 30) - 1, TimeOmit = (1L << 30) - 2;

    public static uint SetTimes(in Location at, long atimeSec, long atimeNsec, long mtimeSec, long mtimeNsec)
    {
        var times = stackalloc timespec[2];
        times[0].tv_sec = (time_t)atimeSec;
        times[0].tv_nsec = (long_t)atimeNsec;
        times[1].tv_sec = (time_t)mtimeSec;
        times[1].tv_nsec = (long_t)mtimeNsec;
        fixed (byte* path = Terminated(at.Name))
            return utimensat(at.Directory, path, times, AT_SYMLINK_NOFOLLOW) < 0 ? (uint)errno : 0;
    }

    public static uint Rename(int fromDirectory, byte[] fromName, int toDirectory, byte[] toName)
    {
        fixed (byte* from = Terminated(fromName))
        fixed (byte* to = Terminated(toName))
            return RenameAt(fromDirectory, from, toDirectory, to) < 0 ? (uint)Marshal.GetLastPInvokeError() : 0;
    }

    /// <summary>A hard link; flags 0: a symlink is linked itself, never followed.</summary>
    public static uint Link(in Location target, int directory, byte[] name)
    {
        fixed (byte* from = Terminated(target.Name))
        fixed (byte* to = Terminated(name))
            return LinkAt(target.Directory, from, directory, to, 0) < 0 ? (uint)Marshal.GetLastPInvokeError() : 0;
    }

    public static uint ReadAt(int fd, Span<byte> destination, ulong offset, out int read)
    {
        long result;
        fixed (byte* data = destination)
            result = pread(fd, data, (size_t)destination.Length, (off_t)(long)offset);
        read = (int)Math.Max(0, result);
        return result < 0 ? (uint)errno : 0;
    }

    public static uint WriteAt(int fd, ReadOnlySpan<byte> source, ulong offset, out int written)
    {
        long result;
        fixed (byte* data = source)
            result = pwrite(fd, data, (size_t)source.Length, (off_t)(long)offset);
        written = (int)Math.Max(0, result);
        return result < 0 ? (uint)errno : 0;
    }

    public static uint Truncate(int fd, ulong size) => ftruncate(fd, (off_t)(long)size) < 0 ? (uint)errno : 0;

    public static uint Sync(int fd, bool dataOnly) => (dataOnly ? fdatasync(fd) : fsync(fd)) < 0 ? (uint)errno : 0;

    public static void Close(int fd) => _ = close(fd);

    /// <summary>Rstatfs's fields, from fstatvfs on the share root.</summary>
    public uint FileSystemStatus(out statvfs status)
    {
        statvfs buffer;
        int result = fstatvfs(_fd, &buffer);
        status = buffer;
        return result < 0 ? (uint)errno : 0;
    }

    /// <summary>
    /// Reads directory entries from directory position <paramref name="cookie"/> (0 = start; otherwise a d_off an
    /// earlier call returned, which lseek on a directory accepts). Calls <paramref name="take"/> per entry until it
    /// returns false.
    /// </summary>
    public static uint ReadDirectory(int fd, ulong cookie, Func<DirectoryEntry, bool> take)
    {
        if (lseek(fd, (off_t)(long)cookie, SEEK_SET) < 0)
            return (uint)errno;
        var buffer = new byte[32768];
        fixed (byte* data = buffer)
        {
            while (true)
            {
                long length = GetDents64(fd, data, (nuint)buffer.Length);
                if (length < 0)
                    return (uint)Marshal.GetLastPInvokeError();
                if (length == 0)
                    return 0;
                for (int offset = 0; offset < length;)
                {
                    // struct linux_dirent64: d_ino[8] d_off[8] d_reclen[2] d_type[1] d_name (NUL-terminated).
                    ulong inode = *(ulong*)(data + offset);
                    ulong next = *(ulong*)(data + offset + 8);
                    ushort recordLength = *(ushort*)(data + offset + 16);
                    byte type = data[offset + 18];
                    var name = new ReadOnlySpan<byte>(data + offset + 19, recordLength - 19);
                    name = name[..name.IndexOf((byte)0)];
                    if (!take(new DirectoryEntry(inode, next, type, name.ToArray())))
                        return 0;
                    offset += recordLength;
                }
            }
        }
    }

    /// <summary>One linux_dirent64: <see cref="Next"/> is the cookie of the entry after it.</summary>
    public readonly record struct DirectoryEntry(ulong Inode, ulong Next, byte Type, byte[] Name)
    {
        /// <summary>DT_DIR and DT_LNK, for the entry's qid type.</summary>
        public Qid Qid => new(Type == 4 ? NinePConstants.QidTypeDirectory : Type == 10 ? NinePConstants.QidTypeSymlink : NinePConstants.QidTypeFile, 0, Inode);
    }

    private static int OpenAt(int directory, byte[] name, int flags, uint mode)
    {
        fixed (byte* path = Terminated(name))
            return openat(directory, path, flags, (mode_t)mode);
    }

    private static byte[] Terminated(byte[] name)
    {
        var terminated = new byte[name.Length + 1];
        name.CopyTo(terminated, 0);
        return terminated;
    }

    // Tmds.LibC has no renameat, linkat or getdents64.
    [LibraryImport("libc", EntryPoint = "renameat", SetLastError = true)]
    private static partial int RenameAt(int oldDirectory, byte* oldPath, int newDirectory, byte* newPath);

    [LibraryImport("libc", EntryPoint = "linkat", SetLastError = true)]
    private static partial int LinkAt(int oldDirectory, byte* oldPath, int newDirectory, byte* newPath, int flags);

    [LibraryImport("libc", EntryPoint = "getdents64", SetLastError = true)]
    private static partial nint GetDents64(int fd, byte* buffer, nuint count);
}
