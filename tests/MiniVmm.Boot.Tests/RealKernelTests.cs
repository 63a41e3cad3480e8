using System.Diagnostics;
using MiniVmm.Memory;
using Xunit.Abstractions;

namespace MiniVmm.Boot.Tests;

/// <summary>
/// Real distribution kernels: MINIVMM_TEST_BZIMAGE, or the images cache
/// (${MINIVMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minivmm}/images/{debian-6.1/vmlinuz, small-6.1/bzImage}).
/// Missing kernels fail the test with directions: a silently skipped real-kernel test proves nothing.
/// </summary>
public sealed class RealKernelTests(ITestOutputHelper output)
{
    private static string CacheRoot()
    {
        string? explicitCache = Environment.GetEnvironmentVariable("MINIVMM_CACHE");
        if (!string.IsNullOrEmpty(explicitCache))
            return explicitCache;
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string baseDir = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(baseDir, "minivmm");
    }

    private static List<string> Candidates()
    {
        var paths = new List<string>();
        string? explicitKernel = Environment.GetEnvironmentVariable("MINIVMM_TEST_BZIMAGE");
        if (!string.IsNullOrEmpty(explicitKernel))
            paths.Add(explicitKernel);
        paths.Add(Path.Combine(CacheRoot(), "images", "debian-6.1", "vmlinuz"));
        paths.Add(Path.Combine(CacheRoot(), "images", "small-6.1", "bzImage"));
        return paths;
    }

    [Fact]
    public void RealKernelsParseDecompressAndLoad()
    {
        var candidates = Candidates();
        var found = candidates.Where(File.Exists).ToList();
        Assert.True(found.Count > 0,
            "No real kernel to test. Build the images (images/ in this repository fills the cache), or point " +
            "MINIVMM_TEST_BZIMAGE at a bzImage, e.g. `apt-get download linux-image-6.1.0-56-amd64 && dpkg-deb -x *.deb x` " +
            "then MINIVMM_TEST_BZIMAGE=$PWD/x/boot/vmlinuz-6.1.0-56-amd64. Looked in: " + string.Join(", ", candidates));

        foreach (string path in found)
        {
            var bytes = File.ReadAllBytes(path);
            var clock = Stopwatch.StartNew();
            var kernel = KernelImage.Parse(bytes, Path.GetFileName(path));
            clock.Stop();
            output.WriteLine($"{path}: {bytes.Length} bytes, boot protocol {kernel.BootProtocolVersion >> 8}.{kernel.BootProtocolVersion & 0xFF}, " +
                $"{kernel.Compression} payload -> {kernel.Vmlinux.Length} byte vmlinux in {clock.ElapsedMilliseconds} ms; " +
                $"entry 0x{kernel.Entry:x}, image {new PhysicalRange(kernel.Elf.Low, kernel.Elf.High)}, version '{kernel.KernelVersion}'");

            Assert.Equal(KernelFormat.BzImage, kernel.Format);
            Assert.True(kernel.BootProtocolVersion >= 0x020C);
            Assert.True(kernel.Entry >= kernel.Elf.Low && kernel.Entry < kernel.Elf.High);
            Assert.Equal(kernel.Header!.Value.PrefAddress, kernel.Elf.Low); // a vmlinux's first segment sits at LOAD_PHYSICAL_ADDR

            ulong memorySize = Math.Max(256ul << 20, (kernel.Elf.High + (64ul << 20) + 0xFF_FFFF) & ~0xF_FFFFul);
            using var memory = GuestMemory.CreateFlat(memorySize);
            var initrd = new byte[1 << 20];
            var info = LinuxLoader.Load(memory, kernel, initrd, "console=ttyS0 earlyprintk=serial reboot=k panic=1", 2);
            Assert.Equal(kernel.Entry, info.Entry);
            Assert.True(info.InitrdRange!.Value.Start >= info.KernelRange.End);

            var firstSegment = kernel.Elf.Segments[0];
            var loaded = new byte[4096];
            memory.Read(new GuestAddress(firstSegment.PhysicalAddress), loaded);
            Assert.Equal(kernel.Vmlinux.Span.Slice((int)firstSegment.FileOffset, 4096).ToArray(), loaded);
        }
    }
}
