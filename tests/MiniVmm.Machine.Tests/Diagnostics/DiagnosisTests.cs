namespace MiniVmm.Machine.Tests.Diagnostics;

public sealed class DiagnosisTests
{
    private static readonly string[] PvmPanic =
    [
        "[   62.619276] Run /init as init process",
        "[   62.941441] init[1]: segfault at ffffffff81400040 ip ffffffff81400040",
        "[   62.970685] Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b",
        "[   63.093735] ---[ end Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b ]---",
    ];

    [Fact]
    public void AnInitDeathAfterTheHandOverOnAPvmHostIsExplainedAsTheHost()
    {
        string text = GuestConsoleDiagnosis.ForPanic(PvmPanic, pvmHost: true);
        Assert.StartsWith("the guest kernel panicked: \"Attempted to kill init! exitcode=0x0000000b\".", text);
        Assert.Contains("kvm_pvm", text);
        Assert.Contains("hardware KVM", text);
        // The way out on this host: the test-kernel patch, by a path that exists in the repository.
        string patch = System.Text.RegularExpressions.Regex.Match(text, @"images/kernel/patches/\S+\.patch").Value;
        Assert.NotEmpty(patch);
        Assert.True(File.Exists(Path.Combine(RepositoryRoot(), patch)), patch + " is named by the diagnosis but is not in the repository");
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "MiniVmm.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new DirectoryNotFoundException("MiniVmm.sln above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void OnHardwareTheSamePanicIsNotBlamedOnTheHost()
    {
        string text = GuestConsoleDiagnosis.ForPanic(PvmPanic, pvmHost: false);
        Assert.DoesNotContain("kvm_pvm", text);
    }

    [Fact]
    public void AMissingRootFileSystemSuggestsAnInitrd()
    {
        string text = GuestConsoleDiagnosis.ForPanic(["Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)"], pvmHost: true);
        Assert.Contains("--initrd", text);
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("quiet", false)]
    [InlineData("quiet", true)]
    public void TheCommandLineStartsWithTheDefaultsAndEndsWithTheUsersArguments(string user, bool compat)
    {
        string line = KernelCommandLine.Build(user, compat);
        Assert.StartsWith(KernelCommandLine.Defaults, line);
        Assert.Equal(compat, line.Contains("noxsave", StringComparison.Ordinal));
        if (user.Length > 0)
            Assert.EndsWith(" " + user, line);
        Assert.DoesNotContain("  ", line);
    }

    [Fact]
    public void DeviceArgumentsComeBeforeTheUsersSoAppendCanOverrideThem() =>
        Assert.Equal($"{KernelCommandLine.Defaults} minivmm.wayland_channels=a:20 quiet",
            KernelCommandLine.Build("quiet", hostCompatibility: false, deviceArguments: "minivmm.wayland_channels=a:20"));

    [Fact]
    public void ClearCpuidFitsTheKernelsFirst128Characters()
    {
        string list = KernelCommandLine.HostCompatibility.Split(' ').Single(p => p.StartsWith("clearcpuid=", StringComparison.Ordinal));
        Assert.True(list["clearcpuid=".Length..].Length <= 128, list);
    }

    [Fact]
    public void TraceCategoriesParseFromCommaListsAndRejectUnknownNames()
    {
        Assert.Equal(TraceCategories.Exits | TraceCategories.Pio, Tracer.Parse(["exits,pio"]));
        Assert.Equal(TraceCategories.Emulation | TraceCategories.Boot, Tracer.Parse(["emulation", "boot"]));
        Assert.True(Tracer.Parse(["all"]).HasFlag(TraceCategories.Mmio));
        Assert.Throws<ArgumentException>(() => Tracer.Parse(["gpu2"]));
        Assert.Throws<ArgumentException>(() => Tracer.Parse(["1"]));
    }
}
