using System.Diagnostics;
using System.Text;

namespace MiniVmm.Integration.Tests;

/// <summary>Runs the real `minivmm` CLI (the build output beside the tests) as a child process.</summary>
internal static class MiniVmmProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <param name="onConsoleLine">Called with each console (stdout) line as it arrives, while the VM still runs.</param>
    public static Result Run(IEnumerable<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null,
        Action<string>? onConsoleLine = null)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "minivmm.dll");
        Assert.True(File.Exists(cli), $"{cli} is missing: the integration tests reference src/MiniVmm");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(cli);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;

        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (stdout)
                stdout.Append(e.Data).Append('\n');
            onConsoleLine?.Invoke(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                lock (stderr)
                    stderr.Append(e.Data).Append('\n');
        };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"minivmm did not finish within {timeout.TotalSeconds:0} s; console so far:\n{Tail(stdout.ToString())}\nstderr:\n{stderr}");
        }
        process.WaitForExit(); // drains the asynchronous readers
        return new Result(process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    public static string Tail(string text, int lines = 40) =>
        string.Join('\n', text.Split('\n').TakeLast(lines));
}
