namespace MiniVmm.NineP;

/// <summary>A host file's qid: its type from the file type, its path the inode (unique within the share's file system).</summary>
public static class Qids
{
    public static Qid ToQid(this FileStatus status) =>
        new(status.IsDirectory ? NinePConstants.QidTypeDirectory : status.IsSymlink ? NinePConstants.QidTypeSymlink : NinePConstants.QidTypeFile,
            (uint)(status.MtimeSec ^ status.MtimeNsec), status.Inode);

    /// <summary>From a directory entry's DT_* type (no stat per entry): version 0.</summary>
    public static Qid ToQid(this HostDirectory.DirectoryEntry entry) =>
        new(entry.Type == HostDirectory.DirectoryEntry.TypeDirectory ? NinePConstants.QidTypeDirectory
            : entry.Type == HostDirectory.DirectoryEntry.TypeSymlink ? NinePConstants.QidTypeSymlink : NinePConstants.QidTypeFile,
            0, entry.Inode);
}
