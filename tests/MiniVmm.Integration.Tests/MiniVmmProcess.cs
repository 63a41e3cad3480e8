using System.Diagnostics;
using System.Text;

namespace MiniVmm.Integration.Tests;

/// <summary>Runs the real `minivmm` CLI (the build output beside the tests), or one of the checkout's scripts, as a child process.</summary>
internal static class MiniVmmProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <param name="onConsoleLine">Called with each console (stdout) line as it arrives, while the VM still runs.</param>
    public static Result Run(IEnumerable<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null,
        Action<string>? onConsoleLine = null)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "minivmm.dll");
        Assert.True(File.Exists(cli), $"{cli} is missing: the integration tests reference src/MiniVmm");
        return RunProgram("dotnet", [cli, .. arguments], timeout, environment, onConsoleLine: onConsoleLine);
    }

    /// <summary>Runs <paramref name="program"/> with stdin closed, capturing both outputs; fails the test when it outlives <paramref name="timeout"/>.</summary>
    public static Result RunProgram(string program, IEnumerable<string> arguments, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null, Action<string>? onConsoleLine = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        string label = string.Join(' ', start.ArgumentList.Prepend(program).Take(2).Select(Path.GetFileName));
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
            Assert.Fail($"{label} did not finish within {timeout.TotalSeconds:0} s; console so far:\n{Tail(stdout.ToString())}\nstderr:\n{stderr}");
        }
        process.WaitForExit(); // drains the asynchronous readers
        return new Result(process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    public static string Tail(string text, int lines = 40) =>
        string.Join('\n', text.Split('\n').TakeLast(lines));
}
