using System.Diagnostics;
using MiniVmm.Firmware;
using MiniVmm.Machine.Console;

namespace MiniVmm.Integration.Tests;

/// <summary>
/// The running VMM answers signals (SIGUSR1 asks for a screenshot, SIGTERM stops it cleanly) and the
/// console's Ctrl-A keys, typed into its stdin (a pipe).
/// </summary>
public sealed class SignalTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("minivmm-signal-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Starts `minivmm run --kernel PAYLOAD --display none ARGUMENTS` with all three standard streams redirected.</summary>
    private Process Start(string name, byte[] payload, params string[] arguments)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, payload);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "minivmm.dll"), "run", "--kernel", path, "--display", "none" }.Concat(arguments))
            start.ArgumentList.Add(argument);
        return Process.Start(start)!;
    }

    [KvmFact]
    public async Task Sigusr1ReportsTheScreenshotAndSigtermStopsTheVm()
    {
        using var process = Start("halt.elf", Payloads.PrintAndHalt("idle\n"), "--screenshot-on-exit", Path.Combine(_directory, "exit.png"), "--timeout", "60");
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

    /// <summary>The guest echoes COM1 and marks a received break; Ctrl-A h, s and x act on the host.</summary>
    [KvmFact]
    public async Task ConsoleKeysSendABreakListTheKeysTakeAScreenshotAndQuit()
    {
        using var process = Start("echo.elf", Payloads.SerialEcho("ready\n"), "--timeout", "120", "-v");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput;
        async Task Type(string keys)
        {
            await process.StandardInput.BaseStream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(keys));
            await process.StandardInput.BaseStream.FlushAsync();
        }

        try
        {
            Assert.Equal("ready", await stdout.ReadLineAsync());
            await Type("ab\u0001bc\n");
            Assert.Equal("ab<break>c", await stdout.ReadLineAsync());
            await Type("\u0001h");
            foreach (string line in ConsoleEscapeParser.HelpText.TrimEnd('\n').Split('\n'))
                Assert.Equal(line, await stdout.ReadLineAsync());
            await Type("\u0001\u0001\n"); // one Ctrl-A reaches the guest
            Assert.Equal("\u0001", await stdout.ReadLineAsync());
            await Type("\u0001s\u0001x");
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "minivmm ignored Ctrl-A x");
        }
        finally
        {
            if (!process.HasExited)
                process.Kill();
        }
        string errors = await stderr;
        Assert.Equal(0, process.ExitCode);
        Assert.Contains("quit from the console (Ctrl-A x)", errors);
        // The payload never set up a scanout: Ctrl-A s says there is nothing to capture.
        Assert.Contains("no screenshot: the guest has not set up scanout 0", errors);
    }

    private const int SigUsr1 = 10, SigTerm = 15;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
