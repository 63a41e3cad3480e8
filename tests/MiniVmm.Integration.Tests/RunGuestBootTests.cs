namespace MiniVmm.Integration.Tests;

/// <summary>
/// The CI-time check of run-guest.sh's default path, for real: from an empty image cache it builds what it boots and
/// boots it. The small kernel is the one `make image` left in the usual cache (the empty cache gets a symlink to its
/// small-6.1 directory, whose stamp is fresh), so this costs a busybox initramfs build and one boot, not a 10-minute
/// kernel build. Where KVM does not open, the same run must end in minivmm's one-line KVM error, not an image error.
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
        string images = Path.Combine(_directory, "cache", "images");
        Directory.CreateDirectory(images);
        File.CreateSymbolicLink(Path.Combine(images, "small-6.1"), Path.GetDirectoryName(GuestImages.Require("small-kernel"))!);

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
