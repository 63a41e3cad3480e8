namespace MiniVmm.Integration.Tests;

/// <summary>
/// run-guest.sh builds everything it boots, from an empty image cache, and takes its paths from the caller's
/// directory. Fast: `--dry-run` prints the image steps and the minivmm command without building, and
/// `images/build.sh --plan` prints what those steps produce, so no kernel is built here.
/// </summary>
public sealed class RunGuestScriptTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("minivmm-run-guest-").FullName;
    private string Cache => Path.Combine(_directory, "cache");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string Script(string relative) => Path.Combine(GuestImages.RepositoryRoot, relative);

    private MiniVmmProcess.Result RunScript(string script, params string[] arguments) =>
        MiniVmmProcess.RunProgram(Script(script), arguments, TimeSpan.FromSeconds(60),
            new Dictionary<string, string> { ["MINIVMM_CACHE"] = Cache }, workingDirectory: _directory);

    /// <summary>The dry run's image steps and the value of each option of its minivmm command.</summary>
    private (string[] Steps, string[] Command) DryRun(params string[] arguments)
    {
        var result = RunScript("run-guest.sh", ["--dry-run", .. arguments]);
        Assert.True(result.ExitCode == 0, $"run-guest.sh --dry-run {string.Join(' ', arguments)}: exit {result.ExitCode}\n{result.Stderr}");
        string[] lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("images:", lines[0]);
        Assert.StartsWith("run: ", lines[1]);
        // printf %q: the paths here have no characters that need quoting, so words split on spaces.
        return (lines[0]["images:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries), lines[1]["run: ".Length..].Split(' '));
    }

    private static string OptionValue(string[] command, string option)
    {
        int index = Array.IndexOf(command, option);
        Assert.True(index >= 0 && index + 1 < command.Length, $"no {option} in: {string.Join(' ', command)}");
        return command[index + 1];
    }

    private string MakeKernelTree()
    {
        string bzImage = Path.Combine(_directory, "linux", "arch", "x86", "boot", "bzImage");
        Directory.CreateDirectory(Path.GetDirectoryName(bzImage)!);
        File.WriteAllText(bzImage, "not really a kernel: the dry run does not read it");
        return bzImage;
    }

    [Theory]
    [InlineData]
    [InlineData("--debian")]
    [InlineData("--wayland")]
    [InlineData("--kernel", "linux/arch/x86/boot/bzImage")]
    public void EveryImageItBootsIsProducedByTheStepsItBuilds(params string[] variant)
    {
        MakeKernelTree();
        var (steps, command) = DryRun(variant);
        // What the steps produce, per images/build.sh (the same list it prints after a real build).
        var plan = RunScript("images/build.sh", ["--plan", .. steps]);
        Assert.True(plan.ExitCode == 0, plan.Stderr);
        var produced = plan.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line[(line.IndexOf(": ", StringComparison.Ordinal) + 2)..]).ToHashSet();

        foreach (string option in new[] { "--kernel", "--initrd" })
        {
            string path = OptionValue(command, option);
            if (path.StartsWith(Cache + "/", StringComparison.Ordinal))
                Assert.True(produced.Contains(path), $"{option} {path} is not built by `images/build.sh {string.Join(' ', steps)}` (it makes: {string.Join(", ", produced)})");
            else
                Assert.True(File.Exists(path), $"{option} {path} is neither in the image cache nor an existing file");
        }
        Assert.False(Directory.Exists(Cache), "a dry run must not build anything");
    }

    [Fact]
    public void PathsAreTheCallersAndShortOptionsAreMinivmmsOwn()
    {
        string bzImage = MakeKernelTree();
        File.WriteAllText(Path.Combine(_directory, "my.cpio"), "cpio");
        // -k with a kernel build tree means its bzImage; -i is --initrd; -m and -c reach minivmm unchanged.
        var (steps, command) = DryRun("-k", "linux", "-i", "my.cpio", "-m", "1024", "-c", "2", "-a", "quiet");
        Assert.Empty(steps);
        Assert.Equal(bzImage, OptionValue(command, "--kernel"));
        Assert.Equal(Path.Combine(_directory, "my.cpio"), OptionValue(command, "--initrd"));
        Assert.Equal("1024", OptionValue(command, "-m"));
        Assert.Equal("2", OptionValue(command, "-c"));
        Assert.Equal("quiet", OptionValue(command, "--append"));
        Assert.Equal(1, command.Count(word => word == "--kernel"));
    }

    [Theory]
    [InlineData("--kernel . is a directory without arch/x86/boot/bzImage", "--kernel", ".")]
    [InlineData("--kernel missing/bzImage not found", "--kernel", "missing/bzImage")]
    [InlineData("--initrd missing.cpio not found", "--initrd", "missing.cpio")]
    [InlineData("-k needs a value", "-k")]
    [InlineData("--wayland boots the small kernel", "--wayland", "--debian")]
    public void BadArgumentsAreOneLineAndExitTwo(string expected, params string[] arguments)
    {
        var result = RunScript("run-guest.sh", ["--dry-run", .. arguments]);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"run-guest.sh: {expected}", result.Stderr.Trim().Split('\n').Single()[..$"run-guest.sh: {expected}".Length]);
    }

    [Fact]
    public void CheckSaysStaleForAnEmptyCacheAndBuildsNothing()
    {
        var result = RunScript("images/build.sh", "--check", "initramfs", "small");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("initramfs: stale\nsmall: stale\n", result.Stdout);
        Assert.False(File.Exists(Path.Combine(Cache, "images", "initramfs", "initramfs.cpio")));
        Assert.False(Directory.Exists(Path.Combine(Cache, "images", "small-6.1")));
    }

    [Fact]
    public void AnUnknownImageStepIsOneLineAndExitTwo()
    {
        var result = RunScript("images/build.sh", "--plan", "kernel");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("images/build.sh: unknown step 'kernel'", result.Stderr.Trim().Split('\n').Single());
    }
}
