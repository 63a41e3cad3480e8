namespace MiniVmm.Integration.Tests;

/// <summary>Every bad input gets one clear line on stderr and exit code 2, never a stack trace.</summary>
public sealed class CliErrorTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("minivmm-cli-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string WriteFile(string name, byte[] bytes)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string Payload() => WriteFile("payload.elf", MiniVmm.Firmware.Payloads.SerialHello("hi\n"));

    private static void AssertOneLineError(MiniVmmProcess.Result result, string expectedFragment)
    {
        Assert.Equal(2, result.ExitCode);
        string[] lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{result.Stderr}");
        Assert.StartsWith("minivmm: ", lines[0]);
        Assert.Contains(expectedFragment, lines[0]);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    private static MiniVmmProcess.Result Run(params string[] arguments) => MiniVmmProcess.Run(arguments, TimeSpan.FromSeconds(60));

    [Fact]
    public void ATextFileIsNotAKernel() =>
        AssertOneLineError(Run("run", "--kernel", WriteFile("notes.txt", "just some text\n"u8.ToArray())), "is not a Linux kernel");

    [Fact]
    public void ACorruptBzImageIsRefused()
    {
        var header = new byte[0x400];
        header[0x1FE] = 0x55;
        header[0x1FF] = 0xAA;
        "HdrS"u8.CopyTo(header.AsSpan(0x202));
        header[0x206] = 0x0F; // protocol 2.15
        header[0x207] = 0x02;
        header[0x1F1] = 1;    // one setup sector
        AssertOneLineError(Run("run", "--kernel", WriteFile("bzImage", header)), "bzImage");
    }

    [Fact]
    public void AMissingKernelFileIsNamed() =>
        AssertOneLineError(Run("run", "--kernel", Path.Combine(_directory, "nope")), "not found");

    [Fact]
    public void AZeroLengthInitrdIsRefused() =>
        AssertOneLineError(Run("run", "--kernel", Payload(), "--initrd", WriteFile("empty.cpio", [])), "is empty");

    [Theory]
    [InlineData("nope", "is not a directory")]
    [InlineData("DIR,tag=a/b", "must be 1 to 31 letters")]
    [InlineData("DIR,rw", "is not tag=NAME or ro")]
    public void ABadShareIsRefused(string share, string expected) =>
        AssertOneLineError(Run("run", "--kernel", Payload(), "--share", share.Replace("DIR", _directory, StringComparison.Ordinal)), expected);

    [Fact]
    public void ABadInputValueIsRefused() =>
        AssertOneLineError(Run("run", "--kernel", Payload(), "--input", "maybe"), "--input 'maybe' is not one of on, off, auto");

    [Fact]
    public void TwoSharesWithOneTagAreRefused() =>
        AssertOneLineError(Run("run", "--kernel", Payload(), "--share", $"{_directory},tag=x", "--share", $"{_directory},tag=x"), "tag 'x' is taken");

    [Fact]
    public void ARootShareWithAnInitrdIsRefused() =>
        AssertOneLineError(Run("run", "--kernel", Payload(), "--root-share", _directory, "--initrd", WriteFile("x.cpio", [1])), "drop --initrd");

    [Theory]
    [InlineData("70000", "the port must be a number")]
    [InlineData("gdb.example:1234", "the host must be localhost or an IP address")]
    [InlineData("localhost:", "the port must be a number")]
    public void ABadGdbAddressIsRefused(string address, string fragment) =>
        AssertOneLineError(Run("run", "--kernel", Payload(), "--gdb", address), fragment);

    [Fact]
    public void GdbWaitWithoutGdbIsRefused() =>
        AssertOneLineError(Run("run", "--kernel", Payload(), "--gdb-wait"), "--gdb-wait needs --gdb");

    [KvmFact]
    public void AGdbPortInUseIsRefused()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        int port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        AssertOneLineError(Run("run", "--kernel", Payload(), "--gdb", port.ToString(System.Globalization.CultureInfo.InvariantCulture)), "cannot listen there");
    }

    [Fact]
    public void TooLittleMemoryIsRefused() =>
        AssertOneLineError(Run("run", "--kernel", Payload(), "--memory", "1M"), "too small");

    [Fact]
    public void AMemorySizeThatIsNotOneIsRefused() =>
        AssertOneLineError(Run("run", "--kernel", Payload(), "--memory", "1.5G"), "--memory '1.5G' is not a size");

    /// <summary>-m 1024 is 1 GiB (MiB, as in QEMU and kvmtool), and 2Gi is 2 GiB: the guest's e820 map ends there.</summary>
    [KvmTheory]
    [InlineData("1024", "0x40000000")]
    [InlineData("2Gi", "0x80000000")]
    public void ABareMemoryNumberIsMebibytes(string memory, string ramEnd)
    {
        var result = Run("run", "--kernel", WriteFile("ok.elf", MiniVmm.Firmware.Payloads.SerialHello("ok\n", 0)), "-m", memory, "--trace", "boot", "--display", "none");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains($", {ramEnd}) usable", result.Stderr);
    }

    [Fact]
    public void ZeroCpusIsRefused() =>
        AssertOneLineError(Run("run", "--kernel", Payload(), "--cpus", "0"), "--cpus 0");

    [Fact]
    public void AnUnknownFlagIsRefused() =>
        AssertOneLineError(Run("run", "--kernel", Payload(), "--frobnicate"), "--frobnicate");

    [Fact]
    public void AMissingRequiredKernelIsRefused() =>
        AssertOneLineError(Run("run"), "--kernel");

    [Fact]
    public void AnUnknownTraceCategoryIsRefused() =>
        AssertOneLineError(Run("run", "--kernel", Payload(), "--trace", "bogus"), "bogus");

    [Fact]
    public void ABadSerialTargetIsRefused() =>
        AssertOneLineError(Run("run", "--kernel", Payload(), "--serial", "tcp:1234"), "--serial");

    [KvmFact]
    public void APayloadRunsThroughTheCliAndItsExitCodeComesBack()
    {
        var result = Run("run", "--kernel", WriteFile("exit.elf", MiniVmm.Firmware.Payloads.SerialHello("bye\n", 42)));
        Assert.Equal(42, result.ExitCode);
        Assert.Equal("bye\n", result.Stdout);
    }

    [Fact]
    public void AMissingKvmDeviceIsReported() =>
        AssertOneLineError(MiniVmmProcess.Run(["run", "--kernel", Payload()], TimeSpan.FromSeconds(60),
            new Dictionary<string, string> { ["MINIVMM_KVM"] = Path.Combine(_directory, "kvm") }), "no KVM");

    [Fact]
    public void ADeviceThatIsNotKvmIsReported() =>
        AssertOneLineError(MiniVmmProcess.Run(["run", "--kernel", Payload()], TimeSpan.FromSeconds(60),
            new Dictionary<string, string> { ["MINIVMM_KVM"] = "/dev/null" }), "not a usable KVM device");

    // The KVM device is checked before the display is opened, so this error is only reached where KVM opens.
    [KvmFact]
    public void AnUnreachableCompositorIsReported() =>
        AssertOneLineError(Run("run", "--kernel", Payload(), "--display", "wayland", "--wayland-socket", Path.Combine(_directory, "wayland-9")),
            "cannot connect to the Wayland compositor");

    [Theory]
    [InlineData("name 'bad name' must be", "/tmp/a,name=bad name")]
    [InlineData("only one socket may be unnamed", "/tmp/a", "/tmp/b")]
    [InlineData("name 'x' is given twice", "/tmp/a,name=x", "/tmp/b,name=x")]
    [InlineData("'colour=red' is not name=NAME", "/tmp/a,colour=red")]
    public void BadWaylandSocketsAreRefused(string expected, params string[] sockets) =>
        AssertOneLineError(Run(["run", "--kernel", Payload(), .. sockets.SelectMany(s => new[] { "--wayland-socket", s })]), expected);

    /// <summary>--verbose lists every socket with its channel, and the guest finds the named ones on its command line.</summary>
    [KvmFact]
    public void NamedWaylandSocketsAreListedAndPassedToTheGuest()
    {
        string first = Path.Combine(_directory, "first-0"), second = Path.Combine(_directory, "second-0");
        var result = Run("run", "--kernel", WriteFile("ok.elf", MiniVmm.Firmware.Payloads.SerialHello("ok\n", 0)), "--display", "none", "--verbose",
            "--trace", "boot", "--wayland-socket", $"{first},name=first", "--wayland-socket", $"{second},name=second");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"minivmm: wayland socket first -> {first} (cross-domain channel 20)", result.Stderr);
        Assert.Contains($"minivmm: wayland socket second -> {second} (cross-domain channel 21)", result.Stderr);
        Assert.Contains("minivmm.wayland_channels=first:20,second:21", result.Stderr);
    }

    [Fact]
    public void ABadGpuOptionIsRefused() =>
        AssertOneLineError(Run("run", "--kernel", Payload(), "--gpu", "width=abc"), "--gpu");

    [KvmFact]
    public void WithDisplayNoneTheVmRunsHeadlessEvenWithoutACompositor()
    {
        var result = MiniVmmProcess.Run(["run", "--kernel", WriteFile("ok.elf", MiniVmm.Firmware.Payloads.SerialHello("ok\n", 0)), "--display", "none"],
            TimeSpan.FromSeconds(60), new Dictionary<string, string> { ["XDG_RUNTIME_DIR"] = _directory, ["WAYLAND_DISPLAY"] = "absent-0" });
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("ok\n", result.Stdout);
    }

    [Fact]
    public void HelpShowsExamples()
    {
        var result = Run("--help");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Examples:", result.Stdout);
        Assert.Contains("minivmm run --kernel", result.Stdout);
    }
}
