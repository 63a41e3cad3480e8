namespace MiniVmm.Integration.Tests;

/// <summary>
/// The CI-time check of run-guest.sh's default path, for real: from an empty image cache it builds what it boots and
/// boots it. The override that keeps it cheap: the small kernel is the one `make image` left in the usual cache (the
/// empty cache gets symlinks to its files and a copy of its stamp, so `images/build.sh small` finds it fresh and
/// nothing is written back), so this costs a busybox initramfs build and one boot, not a 10-minute kernel build.
/// Where KVM does not open, the same run must end in minivmm's one-line KVM error, not an image error.
/// </summary>
[Collection("Weston")] // with the Linux smoke test: one Linux boot at a time on a 2-core host
public sealed class RunGuestBootTests : IDisposable
{
    private const string HandOver = "Run /init as init process";
    private readonly string _directory = Directory.CreateTempSubdirectory("minivmm-run-guest-boot-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    [Trait("Category", "Slow")]
    public void TheDefaultPathBuildsItsImagesAndBootsFromAnEmptyCache()
    {
        string kernelDirectory = Path.GetDirectoryName(GuestImages.Require("small-kernel"))!;
        var check = MiniVmmProcess.RunProgram(Path.Combine(GuestImages.RepositoryRoot, "images", "build.sh"), ["--check", "small"], TimeSpan.FromMinutes(2));
        Assert.True(check.ExitCode == 0, $"the cached small kernel is not fresh for this checkout ({check.Stdout.Trim()}): run `make image` first");
        string images = Path.Combine(_directory, "cache", "images"), small = Path.Combine(images, "small-6.1");
        Directory.CreateDirectory(small);
        foreach (string file in new[] { "bzImage", "vmlinux", "config" })
            File.CreateSymbolicLink(Path.Combine(small, file), Path.Combine(kernelDirectory, file));
        File.Copy(Path.Combine(kernelDirectory, ".stamp"), Path.Combine(small, ".stamp"));

        // console.log is relative: run-guest.sh must leave it in the caller's directory.
        var result = MiniVmmProcess.RunProgram(Path.Combine(GuestImages.RepositoryRoot, "run-guest.sh"),
            ["--display", "none", "--serial", "file:console.log", "--append", "minivmm.test=1", "--exit-on-output", HandOver, "--timeout", "480"],
            TimeSpan.FromMinutes(15), new Dictionary<string, string> { ["MINIVMM_CACHE"] = Path.Combine(_directory, "cache") },
            workingDirectory: _directory);
        string context = $"exit {result.ExitCode}\nstderr:\n{MiniVmmProcess.Tail(result.Stderr)}";

        Assert.True(File.Exists(Path.Combine(images, "initramfs", "initramfs.cpio")), "the busybox initramfs was not built\n" + context);
        if (KvmAvailability.SkipReason is null)
        {
            string console = File.ReadAllText(Path.Combine(_directory, "console.log"));
            Assert.True(result.ExitCode == 0 && console.Contains(HandOver, StringComparison.Ordinal), context + "\nconsole:\n" + MiniVmmProcess.Tail(console));
        }
        else
        {
            Assert.True(result.ExitCode == 2, context);
            Assert.StartsWith("minivmm: " + KvmAvailability.Device, result.Stderr.Trim().Split('\n')[^1]);
        }
    }
}
