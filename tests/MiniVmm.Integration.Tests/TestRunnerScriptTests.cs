namespace MiniVmm.Integration.Tests;

/// <summary>
/// tests/run.sh's verdict, with a stand-in dotnet (DOTNET) that prints canned `dotnet test` output: a missing or
/// empty project fails the run, KVM skips give one loud line where the device is absent and fail where it is there.
/// </summary>
public sealed class TestRunnerScriptTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("minivmm-run-sh-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Every test project of the checkout, as run.sh finds them in MiniVmm.sln.</summary>
    private static string[] Projects() =>
        Directory.GetFiles(Path.Combine(GuestImages.RepositoryRoot, "tests"), "*.Tests.csproj", SearchOption.AllDirectories)
            .Select(path => Path.GetFileNameWithoutExtension(path)).Order().ToArray();

    private static string Summary(string project, int passed, int skipped = 0) =>
        $"{(passed > 0 ? "Passed" : "Skipped")}!  - Failed:     0, Passed: {passed,5}, Skipped: {skipped,5}, Total: {passed + skipped,5}, Duration: 1 s - {project}.dll (net10.0)";

    /// <summary>Runs tests/run.sh with a dotnet whose `test` prints <paramref name="output"/> and leaves <paramref name="trx"/> in the results.</summary>
    private MiniVmmProcess.Result RunSh(IEnumerable<string> output, string trx = "", string kvm = "/nonexistent/kvm")
    {
        string canned = Path.Combine(_directory, "output.txt"), fake = Path.Combine(_directory, "dotnet");
        File.WriteAllLines(canned, output);
        File.WriteAllText(Path.Combine(_directory, "run.trx"), trx);
        // `sln list` goes to the real dotnet, so the project list is what run.sh really reads.
        File.WriteAllText(fake, $"""
            #!/usr/bin/env bash
            [[ $1 == sln ]] && exec dotnet "$@"
            cat '{canned}'
            cp '{_directory}/run.trx' "$TEST_RESULTS/"
            """);
        if (!OperatingSystem.IsWindows()) // the analyzer's guard; these tests are Linux-only like the scripts
            File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return MiniVmmProcess.RunProgram(Path.Combine(GuestImages.RepositoryRoot, "tests", "run.sh"), [], TimeSpan.FromSeconds(120),
            new Dictionary<string, string> { ["DOTNET"] = fake, ["TEST_RESULTS"] = Path.Combine(_directory, "results"), ["MINIVMM_KVM"] = kvm });
    }

    private static string KvmSkipsTrx(int count) =>
        string.Concat(Enumerable.Repeat("<UnitTestResult outcome=\"NotExecuted\"><Output><ErrorInfo>\n<Message>needs KVM: /dev/kvm cannot be opened</Message>\n</ErrorInfo></Output></UnitTestResult>\n", count));

    [Fact]
    public void EveryProjectPassingIsAPass()
    {
        var result = RunSh(Projects().Select(project => Summary(project, 3)));
        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        Assert.EndsWith($"{3 * Projects().Length} passed, 0 failed, 0 skipped", result.Stdout.Trim());
    }

    [Fact]
    public void AProjectMissingFromTheOutputFailsTheRun()
    {
        var result = RunSh(Projects().Skip(1).Select(project => Summary(project, 3)));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{Projects()[0]} is missing from the output", result.Stderr);
    }

    [Fact]
    public void AProjectThatRanNoTestFailsTheRun()
    {
        var result = RunSh(Projects().Select((project, i) => Summary(project, i == 0 ? 0 : 3)));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{Projects()[0]} ran no test", result.Stderr);
    }

    [Fact]
    public void KvmSkipsOnAHostWithoutKvmAreOneLoudLineAndAPass()
    {
        var result = RunSh(Projects().Select((project, i) => Summary(project, 3, skipped: i == 0 ? 2 : 0)), KvmSkipsTrx(2));
        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        Assert.Contains("2 tests skipped: /dev/kvm absent on this host", result.Stdout);
    }

    [Fact]
    public void KvmSkipsWhereTheDeviceIsThereFailTheRun()
    {
        // /dev/null stands in for a device node the user can read and write.
        var result = RunSh(Projects().Select((project, i) => Summary(project, 3, skipped: i == 0 ? 2 : 0)), KvmSkipsTrx(2), kvm: "/dev/null");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("2 tests skipped for KVM although /dev/null is here", result.Stderr);
        Assert.DoesNotContain("absent on this host", result.Stdout);
    }
}
