using System.Text.RegularExpressions;

namespace MiniVmm.Sys.Tests.Repository;

/// <summary>No project but Sys and Kvm (KVM's own ioctls) declares or makes a native call.</summary>
public sealed partial class NativeCallTests
{
    private static readonly string[] SourceFolders = ["src", "firmware", "tools"];

    private static readonly string[] Allowed =
    [
        "src/MiniVmm.Sys/",
        "src/MiniVmm.Kvm/",
    ];

    [Fact]
    public void OnlySysAndKvmCallLibc()
    {
        var root = RepositoryFiles.Root;
        var sources = SourceFolders
            .SelectMany(folder => Directory.EnumerateFiles(Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories))
            .Select(path => Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(path => !path.Split('/').Any(part => part is "bin" or "obj"))
            .ToList();
        Assert.Contains("src/MiniVmm.Sys/Fd.cs", sources);
        Assert.Empty(Offenders(sources.Select(path => (path, File.ReadAllText(Path.Combine(root, path))))));
    }

    [Fact]
    public void ACallOutsideSysIsReported()
    {
        var offenders = Offenders(
        [
            ("src/MiniVmm.Gpu/Sneaky.cs", "using static Tmds.Linux.LibC;\nclass Sneaky { }"),
            ("src/MiniVmm.Machine/Kick.cs", "[LibraryImport(\"libc\")] static partial int getpid();"),
            ("src/MiniVmm.Sys/Fd.cs", "using Tmds.Linux;"),
            ("src/MiniVmm.Wayland/Plain.cs", "class Plain { }"),
        ]);
        Assert.Equal(["src/MiniVmm.Gpu/Sneaky.cs", "src/MiniVmm.Machine/Kick.cs"], offenders);
    }

    private static List<string> Offenders(IEnumerable<(string Path, string Text)> sources) =>
        [.. sources.Where(source => !Allowed.Any(source.Path.StartsWith) && NativeCall().IsMatch(source.Text)).Select(source => source.Path)];

    [GeneratedRegex(@"\[(LibraryImport|DllImport)\b|\bTmds\.Linux\b")]
    private static partial Regex NativeCall();
}
