using System.Diagnostics;
using MiniVmm.Firmware;
using MiniVmm.Machine.Console;

namespace MiniVmm.Integration.Tests;

/// <summary>The Ctrl-A keys through the real CLI: stdin is a pipe, the guest an echo loop on COM1.</summary>
public sealed class ConsoleKeyTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("minivmm-keys-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [KvmFact]
    public async Task BreakHelpScreenshotAndQuit()
    {
        string payload = Path.Combine(_directory, "echo.elf");
        File.WriteAllBytes(payload, Payloads.SerialEcho("ready\n"));
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "minivmm.dll"), "run", "--kernel", payload, "--display", "none", "--timeout", "120", "-v" })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdin = process.StandardInput.BaseStream;
        var stdout = process.StandardOutput;
        async Task Type(string keys)
        {
            await stdin.WriteAsync(System.Text.Encoding.ASCII.GetBytes(keys));
            await stdin.FlushAsync();
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
}
