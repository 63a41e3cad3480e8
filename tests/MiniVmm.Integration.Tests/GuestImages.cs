using System.Diagnostics;

namespace MiniVmm.Integration.Tests;

/// <summary>Finds the guest images that images/build.sh made (via images/paths.sh, so the cache logic lives in one place).</summary>
internal static class GuestImages
{
    public static string RepositoryRoot
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "MiniVmm.sln")))
                    return directory.FullName;
            }
            throw new InvalidOperationException("cannot find MiniVmm.sln above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The path of an image; fails the test loudly when it has not been built.</summary>
    public static string Require(string name)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(RepositoryRoot, "images", "paths.sh"));
        start.ArgumentList.Add(name);
        using var process = Process.Start(start)!;
        string path = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0 && File.Exists(path),
            $"guest image '{name}' is missing ({path}): run `make image` (images/build.sh) first; `make test` does this for you");
        return path;
    }
}
