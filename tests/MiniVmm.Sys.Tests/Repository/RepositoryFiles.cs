namespace MiniVmm.Sys.Tests.Repository;

/// <summary>The checkout these tests were built from.</summary>
internal static class RepositoryFiles
{
    /// <summary>The folder holding MiniVmm.sln, above the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "MiniVmm.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new DirectoryNotFoundException("MiniVmm.sln above " + AppContext.BaseDirectory);
    }
}
