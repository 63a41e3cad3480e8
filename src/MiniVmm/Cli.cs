using System.CommandLine;
using System.CommandLine.Parsing;
using MiniVmm.Boot;
using MiniVmm.Kvm;
using MiniVmm.Machine;

namespace MiniVmm;

/// <summary>The command line: `minivmm run --kernel F ...`. Every bad input is one line on stderr and exit 2.</summary>
public static class Cli
{
    private const string Examples = """

        Examples:
          minivmm run --kernel arch/x86/boot/bzImage
          minivmm run --kernel bzImage --initrd initramfs.cpio --append "quiet" --memory 1G --cpus 2
          minivmm run --kernel bzImage --serial file:console.log --exit-on-output "Run /init as init process"
          minivmm run --kernel vmlinux --trace exits,emulation
          minivmm run --kernel bzImage --append nokaslr --gdb 1234 --gdb-wait    (then: gdb vmlinux -ex 'target remote :1234')

        Console keys (--serial stdio, like QEMU's): Ctrl-A h lists them, Ctrl-A b sends a break (the
        guest's magic SysRq), Ctrl-A s writes a screenshot, Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A.

        Exit codes: 0 guest powered off or reset (or Ctrl-A x); 1 guest failed (panic, triple fault,
        unhandled exit: MiniVmm prints a diagnosis); 2 bad input; 3 host failure; a code the guest
        wrote to the debug-exit port 0x501; 124 --timeout expired.
        """;

    public static int Run(string[] args)
    {
        var options = new RunOptions();
        var run = new Command("run", "Boot a Linux kernel (bzImage or ELF vmlinux) with its console on this terminal.");
        options.AddTo(run);
        run.SetAction(parseResult => Execute(options, parseResult));
        var root = new RootCommand("MiniVmm: a small VMM on /dev/kvm for virtio-gpu and Wayland work." + Examples) { run };

        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            Console.Error.WriteLine($"minivmm: {result.Errors[0].Message} (see 'minivmm run --help')");
            return ExitCodes.BadInput;
        }
        return result.Invoke();
    }

    private static int Execute(RunOptions options, ParseResult parseResult)
    {
        try
        {
            var machineOptions = options.Bind(parseResult);
            if (options.Verbose(parseResult))
            {
                foreach (string line in machineOptions.Gpu?.WaylandSockets.Describe() ?? [])
                    Console.Error.WriteLine($"minivmm: {line}");
            }
            StopReason reason;
            using (machineOptions.Display)
                reason = LinuxMachine.Run(machineOptions, Console.Error);
            if (reason.ExitCode != ExitCodes.GuestPowerOff || options.Verbose(parseResult))
                Console.Error.WriteLine($"minivmm: {reason.Description.TrimEnd()}");
            return reason.ExitCode;
        }
        catch (UsageException error)
        {
            return Report(error.Message, ExitCodes.BadInput);
        }
        catch (BootException error)
        {
            return Report(error.Message, ExitCodes.BadInput);
        }
        catch (IOException error)
        {
            return Report(error.Message, ExitCodes.BadInput);
        }
        catch (KvmException error)
        {
            return Report(error.Message, ExitCodes.HostFailure);
        }
    }

    private static int Report(string message, int exitCode)
    {
        Console.Error.WriteLine($"minivmm: {message}");
        return exitCode;
    }
}
