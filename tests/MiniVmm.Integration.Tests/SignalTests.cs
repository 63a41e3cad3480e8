using System.Diagnostics;
using MiniVmm.Firmware;

namespace MiniVmm.Integration.Tests;

/// <summary>The running VMM answers signals: SIGUSR1 asks for a screenshot, SIGTERM stops it cleanly.</summary>
public sealed class SignalTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("minivmm-signal-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [KvmFact]
    public async Task Sigusr1ReportsTheScreenshotAndSigtermStopsTheVm()
    {
        string payload = Path.Combine(_directory, "halt.elf");
        File.WriteAllBytes(payload, Payloads.PrintAndHalt("idle\n"));
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "minivmm.dll"), "run", "--kernel", payload, "--display", "none",
                     "--screenshot-on-exit", Path.Combine(_directory, "exit.png"), "--timeout", "60" })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.Equal("idle", await process.StandardOutput.ReadLineAsync()); // the guest is up and halted

        Assert.Equal(0, Kill(process.Id, SigUsr1));
        Assert.Equal(0, Kill(process.Id, SigTerm));
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), "minivmm ignored SIGTERM");
        string errors = await stderr;

        Assert.Equal(143, process.ExitCode);
        Assert.Contains("stopped by SIGTERM", errors);
        // The payload never set up a scanout, so both the signal and the exit say there is nothing to capture.
        Assert.Contains("no screenshot: the guest has not set up scanout 0", errors);
    }

    private const int SigUsr1 = 10, SigTerm = 15;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
