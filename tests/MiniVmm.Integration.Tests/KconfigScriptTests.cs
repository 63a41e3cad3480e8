namespace MiniVmm.Integration.Tests;

/// <summary>
/// images/kconfig.sh on a stand-in kernel tree: its merge_config.sh sets each fragment line in .config
/// (as the real one does), its Kconfig declares every symbol but one, and its `make olddefconfig` can
/// drop an option, as Kconfig does when a dependency is off. No kernel is configured or built.
/// </summary>
public sealed class KconfigScriptTests : IDisposable
{
    private readonly string _tree = Directory.CreateTempSubdirectory("minivmm-kconfig-").FullName;

    public void Dispose() => Directory.Delete(_tree, recursive: true);

    private static string Fragment => Path.Combine(GuestImages.RepositoryRoot, "images", "kernel", "minivmm.config");

    private static string[] FragmentLines(bool smallKernelPart) =>
        [.. File.ReadAllLines(Fragment).SkipWhile(line => smallKernelPart != line.StartsWith("# === small kernel only", StringComparison.Ordinal))
            .TakeWhile(line => smallKernelPart || !line.StartsWith("# === small kernel only", StringComparison.Ordinal))
            .Where(line => line.StartsWith("CONFIG_", StringComparison.Ordinal) || line.StartsWith("# CONFIG_", StringComparison.Ordinal))];

    private void MakeTree(string config, string dropOnOlddefconfig = "", string undeclared = "CONFIG_RANDOM_TRUST_BOOTLOADER")
    {
        File.WriteAllText(Path.Combine(_tree, ".config"), config);
        var symbols = FragmentLines(false).Concat(FragmentLines(true))
            .Select(line => line.TrimStart('#', ' ').Split(['=', ' '])[0]).Where(name => name != undeclared);
        File.WriteAllLines(Path.Combine(_tree, "Kconfig"), symbols.Select(name => $"config {name["CONFIG_".Length..]}\n\tbool"));
        Directory.CreateDirectory(Path.Combine(_tree, "scripts", "kconfig"));
        File.WriteAllText(Path.Combine(_tree, "scripts", "kconfig", "merge_config.sh"), """
            [ "$1" = -m ] && [ "$2" = .config ] || exit 9
            while IFS= read -r line; do
            	sed -i "/^${line%%=*}=/d" .config
            	echo "$line" >>.config
            done <"$3"
            """.Replace("\r", ""));
        File.WriteAllText(Path.Combine(_tree, "Makefile"), $"olddefconfig:\n\tsed -i '/^{dropOnOlddefconfig}=/d' .config\n");
    }

    private static MiniVmmProcess.Result Run(string tree) =>
        MiniVmmProcess.RunProgram(Path.Combine(GuestImages.RepositoryRoot, "images", "kconfig.sh"), [tree], TimeSpan.FromSeconds(60));

    [Fact]
    public void MergesTheNeededOptionsKeepsModulesAndSkipsTheSmallKernelsChoices()
    {
        MakeTree("CONFIG_MODULES=y\nCONFIG_ACPI=y\nCONFIG_DRM=m\nCONFIG_DRM_VIRTIO_GPU=m\nCONFIG_SERIAL_8250=m\n");
        var result = Run(_tree);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("kconfig.sh: not in this kernel, skipped: CONFIG_RANDOM_TRUST_BOOTLOADER\n", result.Stderr);
        var config = File.ReadAllLines(Path.Combine(_tree, ".config")).ToHashSet();
        // Modules stay modules, every other needed option is on; modules and ACPI are left as they were.
        Assert.Contains("CONFIG_DRM_VIRTIO_GPU=m", config);
        Assert.Contains("CONFIG_DRM=m", config);
        Assert.Contains("CONFIG_SERIAL_8250=m", config);
        foreach (string option in new[] { "CONFIG_SERIAL_8250_CONSOLE=y", "CONFIG_MAGIC_SYSRQ_SERIAL=y", "CONFIG_VIRTIO_PCI=y", "CONFIG_X86_MPPARSE=y" })
            Assert.Contains(option, config);
        Assert.Contains("CONFIG_MODULES=y", config);
        Assert.Contains("CONFIG_ACPI=y", config);
        Assert.DoesNotContain("CONFIG_KERNEL_GZIP=y", config);
        Assert.Equal(FragmentLines(false).Count(line => line.StartsWith("CONFIG_", StringComparison.Ordinal)) - 1,
            config.Count(line => FragmentLines(false).Contains(line.Replace("=m", "=y"))));
    }

    [Fact]
    public void AnOptionOlddefconfigDroppedIsReportedWithExitOne()
    {
        MakeTree("CONFIG_MODULES=y\n", dropOnOlddefconfig: "CONFIG_DRM_FBDEV_EMULATION");
        var result = Run(_tree);
        Assert.Equal(1, result.ExitCode);
        Assert.EndsWith("kconfig.sh: not set after make olddefconfig (an option they depend on is off): CONFIG_DRM_FBDEV_EMULATION=y\n", result.Stderr);
    }

    [Theory]
    [InlineData("missing", "kconfig.sh: missing is not a directory")]
    [InlineData(".", "has no .config")]
    public void BadTreesAreOneLineAndExitTwo(string tree, string expected)
    {
        var result = Run(tree == "." ? _tree : tree);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Stderr.Trim().Split('\n').Single());
    }
}
