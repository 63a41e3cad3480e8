namespace MiniVmm.NineP;

/// <summary>
/// One host directory shared with the guest: <c>HOSTDIR[,tag=NAME][,ro]</c> on the command line. The tag is what the
/// guest mounts (<c>mount -t 9p -o trans=virtio NAME DIR</c>); it defaults to the directory's own name.
/// </summary>
public sealed record ShareOptions(string HostPath, string Tag, bool ReadOnly)
{
    /// <summary>The tag of <c>--root-share</c>: the kernel mounts it as / (root=TAG rootfstype=9p).</summary>
    public const string RootTag = "minivmm-root";

    /// <summary>Parses one --share value; the error is a one-line message naming what is wrong.</summary>
    public static bool TryParse(string text, out ShareOptions? share, out string? error)
    {
        share = null;
        var parts = text.Split(',');
        string path = parts[0];
        string? tag = null;
        bool readOnly = false;
        foreach (var part in parts.Skip(1))
        {
            if (part == "ro")
                readOnly = true;
            else if (part.StartsWith("tag=", StringComparison.Ordinal))
                tag = part[4..];
            else
            {
                error = $"'{part}' is not tag=NAME or ro";
                return false;
            }
        }
        if (path.Length == 0 || !Directory.Exists(path))
        {
            error = $"'{path}' is not a directory";
            return false;
        }
        path = Path.GetFullPath(path);
        tag ??= Path.GetFileName(Path.TrimEndingDirectorySeparator(path)) is { Length: > 0 } name ? name : "root";
        if (!IsValidTag(tag))
        {
            error = $"tag '{tag}' must be 1 to 31 letters, digits, '-', '_' or '.' (give tag=NAME)";
            return false;
        }
        share = new ShareOptions(path, tag, readOnly);
        error = null;
        return true;
    }

    /// <summary>A tag that is also a safe directory name under /mnt in the guest and a kernel command-line word.</summary>
    public static bool IsValidTag(string tag) =>
        tag.Length is > 0 and <= 31 && tag is not "." and not ".." && tag.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>The /init word that mounts the share at /mnt/TAG (read-only shares with ",ro").</summary>
    public string InitArgument => $"minivmm.share={Tag}{(ReadOnly ? ",ro" : "")}";

    /// <summary>What boots the kernel with this directory as its read-only root over 9p (no initramfs).</summary>
    public string RootArguments => $"root={Tag} rootfstype=9p rootflags=trans=virtio,version=9p2000.L,msize=262144 ro";
}
