using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using MiniVmm.GuestProxy.Drm;
using Xunit.Abstractions;

namespace MiniVmm.GuestProxy.Tests;

/// <summary>
/// The DRM transport's ABI, checked without booting a guest (the guest end-to-end test runs it for real, but takes
/// minutes): a C program built with gcc against the uapi headers of the very kernel the images are built from
/// (Debian's linux-source-6.1) prints every ioctl number, struct size, field offset and constant the proxy uses, and
/// each must equal the proxy's C# declaration.
/// </summary>
public sealed class DrmUapiTests(ITestOutputHelper output)
{
    private static readonly string[] Headers = ["drm.h", "drm_mode.h", "virtgpu_drm.h"];

    [Fact]
    public void IoctlNumbersStructLayoutsAndConstantsMatchTheKernelHeaders()
    {
        var facts = ReadKernelFacts();

        var expected = new Dictionary<string, ulong>
        {
            ["DRM_IOCTL_VIRTGPU_MAP"] = VirtGpuDrm.Map,
            ["DRM_IOCTL_VIRTGPU_EXECBUFFER"] = VirtGpuDrm.ExecBuffer,
            ["DRM_IOCTL_VIRTGPU_WAIT"] = VirtGpuDrm.Wait,
            ["EBUSY"] = (ulong)VirtGpuDrm.Ebusy,
            ["DRM_IOCTL_VIRTGPU_RESOURCE_CREATE_BLOB"] = VirtGpuDrm.ResourceCreateBlob,
            ["DRM_IOCTL_VIRTGPU_CONTEXT_INIT"] = VirtGpuDrm.ContextInit,
            ["DRM_IOCTL_PRIME_HANDLE_TO_FD"] = VirtGpuDrm.PrimeHandleToFd,
            ["DRM_IOCTL_GEM_CLOSE"] = VirtGpuDrm.GemClose,
            ["VIRTGPU_EXECBUF_RING_IDX"] = VirtGpuDrm.ExecbufRingIdx,
            ["VIRTGPU_BLOB_MEM_GUEST"] = VirtGpuDrm.BlobMemGuest,
            ["VIRTGPU_BLOB_MEM_HOST3D"] = VirtGpuDrm.BlobMemHost3d,
            ["VIRTGPU_BLOB_FLAG_USE_MAPPABLE"] = VirtGpuDrm.BlobFlagMappable,
            ["VIRTGPU_BLOB_FLAG_USE_SHAREABLE"] = VirtGpuDrm.BlobFlagShareable,
            ["VIRTGPU_CONTEXT_PARAM_CAPSET_ID"] = VirtGpuDrm.ParamCapsetId,
            ["VIRTGPU_CONTEXT_PARAM_NUM_RINGS"] = VirtGpuDrm.ParamNumRings,
            ["VIRTGPU_CONTEXT_PARAM_POLL_RINGS_MASK"] = VirtGpuDrm.ParamPollRingsMask,
            ["VIRTGPU_EVENT_FENCE_SIGNALED"] = VirtGpuDrm.EventFenceSignaled,
            ["DRM_CLOEXEC"] = (ulong)VirtGpuDrm.DrmCloexec,
            ["DRM_RDWR"] = (ulong)VirtGpuDrm.DrmRdwr,
        };
        foreach (var layout in Structs)
        {
            expected[$"sizeof({layout.CName})"] = (ulong)layout.Size;
            foreach (var (field, offset) in layout.Fields)
                expected[$"offsetof({layout.CName},{ToCField(field)})"] = (ulong)offset;
        }

        var mismatches = expected
            .Where(e => !facts.TryGetValue(e.Key, out var actual) || actual != e.Value)
            .Select(e => $"{e.Key}: proxy 0x{e.Value:x}, kernel {(facts.TryGetValue(e.Key, out var k) ? $"0x{k:x}" : "has no such name")}")
            .ToList();
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
        output.WriteLine($"{expected.Count} ioctl numbers, sizes, offsets and constants match linux-source-6.1");
    }

    private static readonly StructLayoutFacts[] Structs =
    [
        StructLayoutFacts.Of<DrmVirtGpuMap>("struct drm_virtgpu_map"),
        StructLayoutFacts.Of<DrmVirtGpuExecBuffer>("struct drm_virtgpu_execbuffer"),
        StructLayoutFacts.Of<DrmVirtGpuWait>("struct drm_virtgpu_3d_wait"),
        StructLayoutFacts.Of<DrmVirtGpuResourceCreateBlob>("struct drm_virtgpu_resource_create_blob"),
        StructLayoutFacts.Of<DrmVirtGpuContextSetParam>("struct drm_virtgpu_context_set_param"),
        StructLayoutFacts.Of<DrmVirtGpuContextInit>("struct drm_virtgpu_context_init"),
        StructLayoutFacts.Of<DrmPrimeHandle>("struct drm_prime_handle"),
        StructLayoutFacts.Of<DrmGemClose>("struct drm_gem_close"),
    ];

    /// <summary>One C# struct's size and field offsets, as the marshaller lays it out for the ioctl.</summary>
    private sealed record StructLayoutFacts(string CName, int Size, (string Name, int Offset)[] Fields)
    {
        public static StructLayoutFacts Of<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields)] T>(string cName)
            where T : struct =>
            new(cName, Marshal.SizeOf<T>(), [.. typeof(T).GetFields(BindingFlags.Public | BindingFlags.Instance)
                .Select(f => (f.Name, (int)Marshal.OffsetOf<T>(f.Name)))]);
    }

    /// <summary>C# field name → the header's field name: BoHandles → bo_handles; a few differ beyond case.</summary>
    private static string ToCField(string name) => name switch
    {
        "Pad" => "pad",
        "FenceFd" => "fence_fd",
        "CtxSetParams" => "ctx_set_params",
        _ => string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString())),
    };

    /// <summary>Compiles and runs the probe; returns its "name=value" lines.</summary>
    private Dictionary<string, ulong> ReadKernelFacts()
    {
        var work = Directory.CreateTempSubdirectory("minivmm-uapi-").FullName;
        try
        {
            CopyKernelHeaders(Path.Combine(work, "drm"));
            var source = Path.Combine(work, "probe.c");
            File.WriteAllText(source, ProbeSource());
            var binary = Path.Combine(work, "probe");
            Run("gcc", ["-std=gnu11", "-Wall", "-Werror", "-I", work, "-o", binary, source]);
            var facts = new Dictionary<string, ulong>();
            foreach (var line in Run(binary, []).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var at = line.LastIndexOf('=');
                facts[line[..at]] = ulong.Parse(line[(at + 1)..], CultureInfo.InvariantCulture);
            }
            return facts;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private string ProbeSource()
    {
        var lines = new List<string>
        {
            // Raw include/uapi headers still carry __user (headers_install strips it) and use fcntl.h's O_ flags.
            "#include <errno.h>", "#include <fcntl.h>", "#include <stddef.h>", "#include <stdio.h>", "#define __user", "#include \"drm/virtgpu_drm.h\"",
            "#define P(name, value) printf(\"%s=%llu\\n\", name, (unsigned long long)(value))",
            "int main(void) {",
        };
        foreach (var name in new[]
        {
            "DRM_IOCTL_VIRTGPU_MAP", "DRM_IOCTL_VIRTGPU_EXECBUFFER", "DRM_IOCTL_VIRTGPU_WAIT", "EBUSY", "DRM_IOCTL_VIRTGPU_RESOURCE_CREATE_BLOB",
            "DRM_IOCTL_VIRTGPU_CONTEXT_INIT", "DRM_IOCTL_PRIME_HANDLE_TO_FD", "DRM_IOCTL_GEM_CLOSE", "VIRTGPU_EXECBUF_RING_IDX",
            "VIRTGPU_BLOB_MEM_GUEST", "VIRTGPU_BLOB_MEM_HOST3D", "VIRTGPU_BLOB_FLAG_USE_MAPPABLE",
            "VIRTGPU_BLOB_FLAG_USE_SHAREABLE", "VIRTGPU_CONTEXT_PARAM_CAPSET_ID", "VIRTGPU_CONTEXT_PARAM_NUM_RINGS",
            "VIRTGPU_CONTEXT_PARAM_POLL_RINGS_MASK", "VIRTGPU_EVENT_FENCE_SIGNALED", "DRM_CLOEXEC", "DRM_RDWR",
        })
        {
            lines.Add($"P(\"{name}\", {name});");
        }
        foreach (var (cName, _, fields) in Structs)
        {
            lines.Add($"P(\"sizeof({cName})\", sizeof({cName}));");
            foreach (var (field, _) in fields)
            {
                var cField = ToCField(field);
                // The 6.1 execbuffer has no field at our trailing pad: the kernel zero-fills what a shorter struct lacks.
                if (cName == "struct drm_virtgpu_execbuffer" && cField == "pad")
                    lines.Add($"P(\"offsetof({cName},pad)\", offsetof({cName}, ring_idx) + 4);");
                else
                    lines.Add($"P(\"offsetof({cName},{cField})\", offsetof({cName}, {cField}));");
            }
        }
        lines.Add("return 0; }");
        output.WriteLine($"probe: {lines.Count} lines");
        return string.Join('\n', lines);
    }

    /// <summary>
    /// images/build-small.sh keeps the unpacked linux-source-6.1 tree; when that cache was deleted the three headers
    /// are taken from the package's tarball instead. Neither present: the test fails and says how to get them.
    /// </summary>
    private static void CopyKernelHeaders(string target)
    {
        Directory.CreateDirectory(target);
        var tree = Path.Combine(ImageCache(), "work", "small-6.1", "linux-source-6.1", "include", "uapi", "drm");
        if (Headers.All(h => File.Exists(Path.Combine(tree, h))))
        {
            foreach (var header in Headers)
                File.Copy(Path.Combine(tree, header), Path.Combine(target, header));
            return;
        }
        var tarball = Directory.Exists("/usr/src") ? Directory.GetFiles("/usr/src", "linux-source-6.1.tar.*").FirstOrDefault() : null;
        Assert.True(tarball is not null,
            $"no linux-source-6.1 headers: neither {tree} nor /usr/src/linux-source-6.1.tar.* exists (`make image` installs and unpacks linux-source-6.1)");
        Run("tar", ["-xf", tarball!, "-C", target, "--strip-components=4", .. Headers.Select(h => $"linux-source-6.1/include/uapi/drm/{h}")]);
    }

    private static string ImageCache() => Run("bash", [Path.Combine(RepositoryRoot, "images", "paths.sh"), "cache"]).Trim();

    private static string RepositoryRoot =>
        typeof(DrmUapiTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;

    private static string Run(string file, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), $"{file} did not finish");
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', arguments)} exited {process.ExitCode}: {stderr.Result}");
        return stdout;
    }
}
