using System.Text;
using MiniVmm.Boot;
using MiniVmm.Machine;

namespace MiniVmm.Integration.Tests;

/// <summary>Boots a payload ELF in-process on the real /dev/kvm and captures COM1.</summary>
internal static class PayloadRunner
{
    public sealed record Result(StopReason Reason, string Console, string Trace);

    public static Result Run(byte[] elf, int cpus = 1, string name = "payload", TimeSpan? timeout = null)
    {
        var output = new MemoryStream();
        var trace = new StringWriter();
        var reason = LinuxMachine.Run(new LinuxMachineOptions
        {
            Kernel = KernelImage.Parse(elf, name),
            MemorySize = 64UL << 20,
            Cpus = cpus,
            Output = output,
            Input = Stream.Null,
            Timeout = timeout ?? TimeSpan.FromSeconds(60),
            Tracer = new Tracer(TraceCategories.Emulation, trace),
            KvmDevice = KvmAvailability.Device,
        }, TextWriter.Null);
        return new Result(reason, Encoding.ASCII.GetString(output.ToArray()), trace.ToString());
    }
}
