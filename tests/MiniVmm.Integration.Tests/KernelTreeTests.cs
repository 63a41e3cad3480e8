namespace MiniVmm.Integration.Tests;

/// <summary>
/// run-guest.sh --kernel DIR on a build tree with modules: images/build-tree.sh runs the tree's
/// `make modules_install`, packs the modules as a second cpio after the default initramfs and lists
/// the virtio-gpu chain for /init. The tree here is a stand-in (a Makefile whose modules_install
/// installs what Kbuild and depmod would, one module xz-compressed), so no kernel is built; the
/// default initramfs is really built (busybox-static, cpio, fakeroot), into a private cache.
/// </summary>
public sealed class KernelTreeTests : IDisposable
{
    private const string Release = "6.1.99-fake";
    private readonly string _directory = Directory.CreateTempSubdirectory("minivmm-tree-").FullName;
    private string Cache => Path.Combine(_directory, "cache");
    private string Tree => Path.Combine(_directory, "linux");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    // Modules as Linux 6.2+ lists them in modules.order (.o; 6.1 lists .ko, which the script takes too).
    private static readonly string[] Modules =
        ["drivers/virtio/virtio.o", "drivers/virtio/virtio_ring.o", "drivers/virtio/virtio_pci.o",
         "drivers/gpu/drm/drm.o", "drivers/gpu/drm/virtio/virtio-gpu.o", "drivers/input/misc/pcspkr.o"];

    // modules.dep as depmod writes it: every dependency, the closest first; drm.ko compressed.
    private const string ModulesDep = """
        kernel/drivers/virtio/virtio.ko:
        kernel/drivers/virtio/virtio_ring.ko: kernel/drivers/virtio/virtio.ko
        kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko
        kernel/drivers/gpu/drm/drm.ko.xz:
        kernel/drivers/gpu/drm/virtio/virtio-gpu.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko kernel/drivers/gpu/drm/drm.ko.xz
        kernel/drivers/input/misc/pcspkr.ko:
        """;

    private void MakeTree(string config = "CONFIG_MODULES=y\n", bool withModules = true)
    {
        Directory.CreateDirectory(Path.Combine(Tree, "arch", "x86", "boot"));
        File.WriteAllText(Path.Combine(Tree, "arch", "x86", "boot", "bzImage"), "not a kernel: nothing boots it here");
        File.WriteAllText(Path.Combine(Tree, ".config"), config);
        Directory.CreateDirectory(Path.Combine(Tree, "include", "config"));
        File.WriteAllText(Path.Combine(Tree, "include", "config", "kernel.release"), Release + "\n");
        if (!withModules)
            return;
        File.WriteAllText(Path.Combine(Tree, "modules.order"), string.Join('\n', Modules) + "\n");
        foreach (string module in Modules)
        {
            string ko = Path.Combine(Tree, Path.ChangeExtension(module, ".ko"));
            Directory.CreateDirectory(Path.GetDirectoryName(ko)!);
            File.WriteAllText(ko, $"module {module}");
        }
        File.WriteAllText(Path.Combine(Tree, "modules.dep.in"), ModulesDep.Replace("\r", "") + "\n");
        // Kbuild's modules_install copies each .ko under kernel/, links build back to the tree (<= 6.1),
        // and depmod writes modules.dep and its binary index.
        File.WriteAllText(Path.Combine(Tree, "Makefile"), $"""
            M := $(INSTALL_MOD_PATH)/lib/modules/{Release}
            modules_install:
            	test "$(INSTALL_MOD_STRIP)" = 1
            	for m in $$(sed 's/\.o$$/.ko/' modules.order); do mkdir -p $(M)/kernel/$$(dirname $$m) && cp $$m $(M)/kernel/$$m; done
            	xz $(M)/kernel/drivers/gpu/drm/drm.ko
            	ln -s $(CURDIR) $(M)/build
            	cp modules.dep.in $(M)/modules.dep
            	touch $(M)/modules.dep.bin
            	echo kernel/drivers/tty/serial/8250/8250.ko >$(M)/modules.builtin

            """.Replace("\r", ""));
    }

    /// <summary>Runs a checkout script from the test directory, with a depmod stand-in on PATH (so a host without kmod installs nothing).</summary>
    private MiniVmmProcess.Result RunScript(string script, params string[] arguments)
    {
        string bin = Path.Combine(_directory, "bin");
        Directory.CreateDirectory(bin);
        File.WriteAllText(Path.Combine(bin, "depmod"), "#!/bin/sh\nexit 0\n");
        if (!OperatingSystem.IsWindows()) // the analyzer's guard; the scripts are Linux-only
            File.SetUnixFileMode(Path.Combine(bin, "depmod"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return MiniVmmProcess.RunProgram(Path.Combine(GuestImages.RepositoryRoot, script), arguments, TimeSpan.FromSeconds(120),
            new Dictionary<string, string> { ["MINIVMM_CACHE"] = Cache, ["PATH"] = $"{bin}:{Environment.GetEnvironmentVariable("PATH")}" },
            workingDirectory: _directory);
    }

    private string TreeInitramfs()
    {
        var result = RunScript("images/paths.sh", "tree-initramfs", "linux");
        Assert.True(result.ExitCode == 0, result.Stderr);
        return result.Stdout.Trim();
    }

    private static string[] CpioListing(string archive)
    {
        var result = MiniVmmProcess.RunProgram("sh", ["-c", "cpio -t --quiet <\"$0\"", archive], TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, result.Stderr);
        return result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public void ModulesGoInASecondCpioAfterTheDefaultInitramfsWithTheVirtioGpuChainForInit()
    {
        MakeTree();
        var build = RunScript("images/build.sh", "tree=linux");
        Assert.True(build.ExitCode == 0, build.Stderr);
        string initramfs = TreeInitramfs();
        Assert.Contains($"tree-initramfs: {initramfs}\n", build.Stdout);
        string output = Path.GetDirectoryName(initramfs)!;

        // /init insmods these, each after what it needs; pcspkr is not in the chain.
        string[] chain =
            ["kernel/drivers/virtio/virtio.ko", "kernel/drivers/virtio/virtio_ring.ko", "kernel/drivers/virtio/virtio_pci.ko",
             "kernel/drivers/gpu/drm/drm.ko", "kernel/drivers/gpu/drm/virtio/virtio-gpu.ko"];
        Assert.Equal(chain, File.ReadAllLines(Path.Combine(output, "modules.txt")));

        string lib = $"lib/modules/{Release}";
        string[] expected =
        [
            "etc", "etc/minivmm-modules", "lib", "lib/modules", lib, $"{lib}/kernel", $"{lib}/kernel/drivers",
            $"{lib}/kernel/drivers/gpu", $"{lib}/kernel/drivers/gpu/drm", $"{lib}/kernel/drivers/gpu/drm/drm.ko",
            $"{lib}/kernel/drivers/gpu/drm/virtio", $"{lib}/kernel/drivers/gpu/drm/virtio/virtio-gpu.ko",
            $"{lib}/kernel/drivers/input", $"{lib}/kernel/drivers/input/misc", $"{lib}/kernel/drivers/input/misc/pcspkr.ko",
            $"{lib}/kernel/drivers/virtio", $"{lib}/kernel/drivers/virtio/virtio.ko", $"{lib}/kernel/drivers/virtio/virtio_pci.ko",
            $"{lib}/kernel/drivers/virtio/virtio_ring.ko", $"{lib}/modules.builtin", $"{lib}/modules.dep",
        ];
        Assert.Equal(expected, CpioListing(Path.Combine(output, "modules.cpio")));

        // The booted file is the default initramfs, then the modules' archive (GNU cpio pads to 512 bytes,
        // so the second archive starts where the kernel looks for it).
        byte[] base_ = File.ReadAllBytes(Path.Combine(Cache, "images", "initramfs", "initramfs.cpio"));
        Assert.Equal(0, base_.Length % 4);
        Assert.Equal([.. base_, .. File.ReadAllBytes(Path.Combine(output, "modules.cpio"))], File.ReadAllBytes(initramfs));
        Assert.Contains("bin/busybox", CpioListing(initramfs)); // cpio -t stops at the first trailer
    }

    [Fact]
    public void UnpackedModulesAreRenamedInModulesDep()
    {
        MakeTree();
        Assert.Equal(0, RunScript("images/build.sh", "tree=linux").ExitCode);
        string unpacked = Path.Combine(_directory, "unpacked");
        Directory.CreateDirectory(unpacked);
        var result = MiniVmmProcess.RunProgram("sh", ["-c", "cpio -id --quiet <\"$0\"", Path.Combine(Path.GetDirectoryName(TreeInitramfs())!, "modules.cpio")],
            TimeSpan.FromSeconds(30), workingDirectory: unpacked);
        Assert.True(result.ExitCode == 0, result.Stderr);
        string lib = Path.Combine(unpacked, "lib", "modules", Release);
        Assert.Equal("module drivers/gpu/drm/drm.o", File.ReadAllText(Path.Combine(lib, "kernel", "drivers", "gpu", "drm", "drm.ko")));
        Assert.Equal(ModulesDep.Replace("\r", "").Replace(".ko.xz", ".ko") + "\n", File.ReadAllText(Path.Combine(lib, "modules.dep")));
    }

    [Fact]
    public void AnUnchangedTreeIsNotReinstalledAndARebuiltModuleIs()
    {
        MakeTree();
        Assert.Equal(0, RunScript("images/build.sh", "tree=linux").ExitCode);
        var again = RunScript("images/build.sh", "tree=linux");
        Assert.Contains("tree: up to date", again.Stderr);
        Assert.DoesNotContain("modules_install", again.Stderr);

        string ko = Path.Combine(Tree, "drivers", "gpu", "drm", "virtio", "virtio-gpu.ko");
        File.SetLastWriteTimeUtc(ko, File.GetLastWriteTimeUtc(ko).AddSeconds(5)); // `make` rebuilt it
        var rebuilt = RunScript("images/build.sh", "tree=linux");
        Assert.True(rebuilt.ExitCode == 0, rebuilt.Stderr);
        Assert.Contains("modules_install", rebuilt.Stderr);
    }

    [Fact]
    public void RunGuestBootsTheTreeWithItsModulesUnlessGivenAnInitrd()
    {
        MakeTree();
        var dry = RunScript("run-guest.sh", "--dry-run", "--kernel", "linux");
        Assert.True(dry.ExitCode == 0, dry.Stderr);
        string[] lines = dry.Stdout.Split('\n');
        Assert.Equal($"images: initramfs tree={Tree}", lines[0]);
        Assert.Contains($" --kernel {Tree}/arch/x86/boot/bzImage --initrd {TreeInitramfs()}", lines[1]);
        Assert.False(Directory.Exists(Cache), "a dry run must not build anything");

        File.WriteAllText(Path.Combine(_directory, "my.cpio"), "cpio");
        var own = RunScript("run-guest.sh", "--dry-run", "--kernel", "linux", "--initrd", "my.cpio");
        Assert.StartsWith("images: \n", own.Stdout);
        Assert.Contains($" --initrd {_directory}/my.cpio\n", own.Stdout);
    }

    [Theory]
    [InlineData("CONFIG_MODULES=y\n", true)]
    [InlineData("# CONFIG_MODULES is not set\n", false)]
    public void ATreeHasModulesWhenConfiguredSo(string config, bool hasModules)
    {
        MakeTree(config, withModules: false);
        var dry = RunScript("run-guest.sh", "--dry-run", "-k", "linux");
        Assert.Equal(hasModules, dry.Stdout.Contains($"tree={Tree}", StringComparison.Ordinal));
        var plan = RunScript("images/build.sh", "--plan", "tree=linux");
        Assert.Equal(hasModules, plan.Stdout.Contains("tree-initramfs: ", StringComparison.Ordinal));
    }

    [Fact]
    public void ATreeThatIsNotADirectoryIsOneLineAndExitTwo()
    {
        var result = RunScript("images/build.sh", "tree=missing");
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("images/build.sh: tree=missing: not a directory", result.Stderr.Trim());
    }
}
