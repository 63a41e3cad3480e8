using System.Diagnostics;
using System.Reflection;

namespace MiniVmm.Integration.Tests;

/// <summary>Finds the guest images that images/build.sh made (via images/paths.sh, so the cache logic lives in one place).</summary>
internal static class GuestImages
{
    /// <summary>The checkout this test assembly was built from (recorded at build time by the .csproj).</summary>
    public static string RepositoryRoot =>
        typeof(GuestImages).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(attribute => attribute.Key == "RepositoryRoot").Value!;

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
