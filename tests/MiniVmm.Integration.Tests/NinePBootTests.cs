using System.Diagnostics;

namespace MiniVmm.Integration.Tests;

/// <summary>
/// Host directories in a real guest over virtio-9p: the small kernel boots with a host directory as its read-only
/// root (--root-share, no initramfs), runs /init read from it over 9p, mounts a second, writable share and writes a
/// file the host then finds. Linux's own v9fs client is the one talking to the server here, not the tests' client.
/// </summary>
public sealed class NinePBootTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("minivmm-9p-boot-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [KvmFact]
    [Trait("Category", "Slow")]
    public void TheKernelBootsFromAHostDirectoryOver9pAndWritesToASharedOne()
    {
        string kernel = GuestImages.Require("small-kernel");
        string root = Path.Combine(_directory, "root"), share = Path.Combine(_directory, "share");
        foreach (var directory in new[] { "bin", "dev", "proc", "mnt" })
            Directory.CreateDirectory(Path.Combine(root, directory));
        Directory.CreateDirectory(share);
        CopyBusybox(GuestImages.Require("initramfs"), root);
        File.WriteAllText(Path.Combine(root, "marker"), "hello-from-host-root\n");
        File.WriteAllText(Path.Combine(share, "host-file.txt"), "from the host\n");
        string init = Path.Combine(root, "init");
        File.WriteAllText(init, """
            #!/bin/busybox sh
            b=/bin/busybox
            $b echo "MINIVMM-9P: root says $($b cat /marker)"
            $b mount -t 9p -o trans=virtio,version=9p2000.L hostshare /mnt && $b echo "MINIVMM-9P: share mounted"
            $b echo "MINIVMM-9P: share holds $($b cat /mnt/host-file.txt)"
            $b echo written-by-guest > /mnt/from-guest.txt
            $b mkdir /mnt/made-by-guest
            $b touch /marker 2>/dev/null || $b echo "MINIVMM-9P: the root is read-only"
            $b sync
            $b reboot -f
            """.Replace("\r", "", StringComparison.Ordinal));
        if (OperatingSystem.IsLinux()) // always, under [KvmFact]; says so to the platform analyzer
            File.SetUnixFileMode(init, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var result = MiniVmmProcess.Run(
            ["run", "--kernel", kernel, "--root-share", root, "--share", $"{share},tag=hostshare", "--gpu", "off",
             "--append", "init=/init", "--timeout", "480", "-v"],
            TimeSpan.FromSeconds(540));
        string console = result.Stdout;
        string context = $"exit {result.ExitCode}\nstderr: {result.Stderr}\nconsole tail:\n{MiniVmmProcess.Tail(console)}";

        Assert.True(console.Contains("VFS: Mounted root (9p filesystem) readonly", StringComparison.Ordinal), context);
        Assert.True(console.Contains("Run /init as init process", StringComparison.Ordinal), context);
        Assert.True(console.Contains("MINIVMM-9P: root says hello-from-host-root", StringComparison.Ordinal), context);
        Assert.True(console.Contains("MINIVMM-9P: share holds from the host", StringComparison.Ordinal), context);
        Assert.True(console.Contains("MINIVMM-9P: the root is read-only", StringComparison.Ordinal), context);
        Assert.Equal("written-by-guest\n", File.ReadAllText(Path.Combine(share, "from-guest.txt")));
        Assert.True(Directory.Exists(Path.Combine(share, "made-by-guest")), context);
        Assert.Equal("hello-from-host-root\n", File.ReadAllText(Path.Combine(root, "marker")));
        Assert.True(result.ExitCode == 0, context);
    }

    /// <summary>The busybox the default initramfs carries (Debian's static build) is the guest's only program.</summary>
    private static void CopyBusybox(string initramfs, string root)
    {
        var start = new ProcessStartInfo("cpio", ["-i", "--quiet", "-d", "bin/busybox"])
        {
            WorkingDirectory = root,
            RedirectStandardInput = true,
            RedirectStandardError = true,
        };
        using var cpio = Process.Start(start)!;
        using (var archive = File.OpenRead(initramfs))
            archive.CopyTo(cpio.StandardInput.BaseStream);
        cpio.StandardInput.Close();
        cpio.WaitForExit();
        Assert.True(cpio.ExitCode == 0 && File.Exists(Path.Combine(root, "bin", "busybox")), $"cpio: {cpio.StandardError.ReadToEnd()}");
    }
}
