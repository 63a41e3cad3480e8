using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Iced.Intel;
using MiniVmm.Boot;
using MiniVmm.Firmware;
using MiniVmm.Kvm;
using MiniVmm.Machine;
using MiniVmm.Machine.Debug;

namespace MiniVmm.Integration.Tests;

/// <summary>
/// The gdb stub on the real /dev/kvm with tiny payloads, driven by a minimal RSP client (no gdb): stop before
/// the first instruction, step, a software breakpoint hit by continue, reads that hide the int3, detach, Ctrl-C
/// on a halted vCPU, kill. Each runs in about a second on either kind of host.
/// </summary>
public sealed class GdbStubPayloadTests
{
    private const int RipRegister = 0x10;

    [KvmFact]
    public void ABreakpointStopsThePayloadAndAfterDetachItRunsToItsEnd()
    {
        var output = new MemoryStream();
        var trace = new StringWriter();
        var server = GdbServer.Listen(new IPEndPoint(IPAddress.Loopback, 0), waitForAttach: true);
        var vm = Boot(Payloads.SerialHello("hello\n", exitCode: 7), server, output, trace);
        using var gdb = RspClient.Connect(server.Endpoint.Port);

        Assert.Contains("swbreak+", gdb.Ask("qSupported:swbreak+"));
        Assert.Equal("T05thread:1;", gdb.Ask("?"));
        ulong entry = gdb.Rip();
        Assert.Equal(PayloadPorts.CodeAddress, entry);
        byte[] code = gdb.Memory(entry, 32);
        // mov dx,COM1+5; in al,dx; test al,0x20; jz wait; mov dx,COM1 (the first byte's write)
        var instructions = Decode(code, entry);
        Assert.Equal(Mnemonic.In, instructions[1].Mnemonic);

        Assert.Equal("T05thread:1;", gdb.Ask("s"));
        Assert.Equal(instructions[1].IP, gdb.Rip());

        ulong target = instructions[4].IP;
        Assert.Equal("OK", gdb.Ask($"Z0,{target:x},1"));
        Assert.Equal(code[(int)(target - entry)], gdb.Memory(target, 1)[0]); // the int3 is hidden from reads
        Assert.Equal("T05thread:1;swbreak:;", gdb.Ask("c"));
        Assert.Equal(target, gdb.Rip());
        Assert.Equal("OK", gdb.Ask($"z0,{target:x},1"));
        Assert.Equal("OK", gdb.Ask("D"));

        var reason = vm.GetAwaiter().GetResult();
        Assert.True(reason.ExitCode == 7, reason.Description);
        Assert.Equal("hello\n", Encoding.ASCII.GetString(output.ToArray()));
        // How the breakpoint came back, by host (docs/gdb.md).
        Assert.Contains(KvmSystem.IsPvmHost ? $"int3 at 0x{target:x} (emulation failure) is gdb's breakpoint" : $"KVM_EXIT_DEBUG exception 3 at 0x{target:x}", trace.ToString());
    }

    [KvmFact]
    public void CtrlCStopsAHaltedVcpuAndKillEndsTheMachine()
    {
        var server = GdbServer.Listen(new IPEndPoint(IPAddress.Loopback, 0), waitForAttach: false);
        var vm = Boot(Payloads.PrintAndHalt("halting\n"), server, new MemoryStream(), new StringWriter());
        using var gdb = RspClient.Connect(server.Endpoint.Port);

        Assert.Equal("T02thread:1;", gdb.Ask("?")); // connecting stopped the machine
        gdb.Send("c");
        Thread.Sleep(500); // long enough to print and halt
        gdb.Interrupt();
        Assert.Equal("T02thread:1;", gdb.Receive());
        gdb.Send("k");

        var reason = vm.GetAwaiter().GetResult();
        Assert.True(reason.ExitCode == 0 && reason.Description.Contains("gdb killed", StringComparison.Ordinal), reason.Description);
    }

    private static Task<StopReason> Boot(byte[] elf, GdbServer server, MemoryStream output, StringWriter trace) => Task.Run(() => LinuxMachine.Run(new LinuxMachineOptions
    {
        Kernel = KernelImage.Parse(elf, "payload"),
        MemorySize = 64UL << 20,
        Output = output,
        Input = Stream.Null,
        Timeout = TimeSpan.FromSeconds(60),
        KvmDevice = KvmAvailability.Device,
        Gdb = server,
        Tracer = new Tracer(TraceCategories.Exits, TextWriter.Synchronized(trace)),
    }, TextWriter.Null));

    private static List<Instruction> Decode(byte[] code, ulong address)
    {
        var decoder = Iced.Intel.Decoder.Create(64, new ByteArrayCodeReader(code), address);
        var instructions = new List<Instruction>();
        for (int i = 0; i < 5; i++)
            instructions.Add(decoder.Decode());
        return instructions;
    }

    /// <summary>Just enough of gdb's side of the protocol; a reply that does not come within 30 s reads as null.</summary>
    private sealed class RspClient : IDisposable
    {
        private readonly TcpClient _tcp;
        private readonly GdbPacketStream _packets;

        private RspClient(TcpClient tcp)
        {
            _tcp = tcp;
            _packets = new GdbPacketStream(tcp.GetStream());
        }

        public static RspClient Connect(int port)
        {
            var tcp = new TcpClient { ReceiveTimeout = 30_000, NoDelay = true };
            tcp.Connect("127.0.0.1", port);
            return new RspClient(tcp);
        }

        public void Send(string packet) => _packets.Write(packet);

        public string? Receive() => _packets.Read()?.Packet;

        public string? Ask(string packet)
        {
            Send(packet);
            return Receive();
        }

        public void Interrupt() => _tcp.GetStream().Write([0x03]);

        public ulong Rip() => BinaryPrimitives.ReadUInt64LittleEndian(Convert.FromHexString(Ask($"p{RipRegister:x}") ?? ""));

        public byte[] Memory(ulong address, int length) => Convert.FromHexString(Ask($"m{address:x},{length:x}") ?? "");

        public void Dispose() => _tcp.Dispose();
    }
}
