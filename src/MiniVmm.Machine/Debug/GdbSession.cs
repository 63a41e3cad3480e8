using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace MiniVmm.Machine.Debug;

/// <summary>
/// One gdb connection: answers the Remote Serial Protocol packets MiniVmm supports (the set gdb needs for
/// a kernel: registers, memory, software breakpoints, continue, step, Ctrl-C, threads, detach, kill) and
/// an empty reply, which gdb reads as "not supported", to everything else. gdb thread N is vCPU N-1.
/// </summary>
public sealed class GdbSession(GdbPacketStream packets, Socket socket, GuestDebugger debugger, IMachineControl control)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private int _generalVcpu;
    private int _continueVcpu = -1;
    private DebugStop _lastStop;

    /// <summary>Stops the machine, then serves gdb until it detaches, kills, disconnects, or the machine ends.</summary>
    public void Run()
    {
        debugger.Attach();
        // Not WaitForStop: gdb's first packets (qSupported) may already be on the way, and must not be read here.
        DebugStop? stop;
        while ((stop = debugger.WaitForStop(PollInterval)) is null)
        {
            if (debugger.Released)
                return;
        }
        _lastStop = stop.Value;
        while (packets.Read() is { } input)
        {
            if (input.IsInterrupt)
                continue; // already stopped
            string packet = input.Packet!;
            if (packet.Length == 0)
            {
                packets.Write("");
                continue;
            }
            switch (packet[0])
            {
                case 'c':
                case 's':
                    debugger.Resume(packet[0] == 's' ? StepVcpu() : null);
                    if (WaitForStop() is not { } next)
                        return;
                    _lastStop = next;
                    _generalVcpu = next.VcpuId;
                    packets.Write(StopReply(next));
                    continue;
                case 'D':
                    packets.Write("OK");
                    debugger.Detach();
                    return;
                case 'k':
                    debugger.Detach();
                    control.RequestStop(new StopReason(ExitCodes.GuestPowerOff, "gdb killed the guest ('k')"));
                    return;
            }
            packets.Write(Answer(packet));
            if (packet == "QStartNoAckMode")
                packets.Acknowledging = false;
        }
        debugger.Detach(); // gdb went away without detaching: the guest runs on
    }

    /// <summary>
    /// After c or s: waits for all vCPUs to park, passing on Ctrl-C (in all-stop mode gdb sends nothing else
    /// while the target runs); null when gdb left (then the guest runs on) or the machine ended.
    /// </summary>
    private DebugStop? WaitForStop()
    {
        while (true)
        {
            if (debugger.WaitForStop(PollInterval) is { } stop)
                return stop;
            if (debugger.Released)
            {
                packets.Write("W00"); // the machine is gone: gdb sees the "process" exit
                return null;
            }
            if (!socket.Poll(0, SelectMode.SelectRead))
                continue;
            var input = packets.Read();
            if (input is null)
            {
                debugger.Detach();
                return null;
            }
            if (input.Value.IsInterrupt)
                debugger.Interrupt();
        }
    }

    private int StepVcpu() => _continueVcpu >= 0 ? _continueVcpu : _lastStop.VcpuId;

    private static string StopReply(DebugStop stop) =>
        $"T{stop.Signal:x2}thread:{stop.VcpuId + 1:x};{(stop.AtBreakpoint ? "swbreak:;" : "")}";

    private string Answer(string packet)
    {
        switch (packet[0])
        {
            case '?':
                return StopReply(_lastStop);
            case 'g':
                return GdbRegisters.EncodeAll(debugger.ReadRegisters(_generalVcpu));
            case 'G':
                return WriteAllRegisters(packet[1..]);
            case 'p':
                return TryHex(packet[1..], out ulong regnum) && GdbRegisters.Encode(debugger.ReadRegisters(_generalVcpu), (int)Math.Min(regnum, int.MaxValue)) is { } value ? value : "E00";
            case 'P':
                return WriteOneRegister(packet[1..]);
            case 'm':
                return ReadMemory(packet[1..]);
            case 'M':
            case 'X':
                return WriteMemory(packet[1..], binary: packet[0] == 'X');
            case 'Z':
            case 'z':
                return Breakpoint(packet);
            case 'H':
                return SelectThread(packet);
            case 'T':
                return TryHex(packet[1..], out ulong thread) && thread >= 1 && thread <= (ulong)debugger.VcpuCount ? "OK" : "E01";
        }
        return Query(packet);
    }

    private string Query(string packet)
    {
        if (packet.StartsWith("qSupported", StringComparison.Ordinal))
            return $"PacketSize={GdbPacketStream.MaxPayload:x};qXfer:features:read+;QStartNoAckMode+;swbreak+";
        if (packet.StartsWith("qXfer:features:read:target.xml:", StringComparison.Ordinal))
            return ReadTargetXml(packet["qXfer:features:read:target.xml:".Length..]);
        if (packet.StartsWith("qThreadExtraInfo,", StringComparison.Ordinal) && TryHex(packet["qThreadExtraInfo,".Length..], out ulong thread))
            return Convert.ToHexString(Encoding.ASCII.GetBytes($"vCPU {thread - 1}")).ToLowerInvariant();
        return packet switch
        {
            "QStartNoAckMode" => "OK",
            "qAttached" => "1",
            "qC" => $"QC{_generalVcpu + 1:x}",
            "qfThreadInfo" => "m" + string.Join(',', Enumerable.Range(1, debugger.VcpuCount).Select(id => id.ToString("x"))),
            "qsThreadInfo" => "l",
            _ => "",
        };
    }

    /// <summary>qXfer reads come as offset,length; 'm' says more follows, 'l' that this is the last piece.</summary>
    private static string ReadTargetXml(string range)
    {
        var parts = range.Split(',');
        if (parts.Length != 2 || !TryHex(parts[0], out ulong offset) || !TryHex(parts[1], out ulong length))
            return "E00";
        string xml = GdbRegisters.TargetXml;
        if (offset >= (ulong)xml.Length)
            return "l";
        int count = (int)Math.Min(length, (ulong)xml.Length - offset);
        return string.Concat(offset + (ulong)count < (ulong)xml.Length ? "m" : "l", xml.AsSpan((int)offset, count));
    }

    private string SelectThread(string packet)
    {
        if (packet.Length < 3 || !TryThread(packet[2..], out int vcpu))
            return "E01";
        if (packet[1] == 'g')
            _generalVcpu = vcpu < 0 ? _lastStop.VcpuId : vcpu;
        else
            _continueVcpu = vcpu;
        return "OK";
    }

    /// <summary>Thread ids: -1 all, 0 any (both mean "not one in particular": -1 here), N = vCPU N-1.</summary>
    private bool TryThread(string text, out int vcpu)
    {
        vcpu = -1;
        if (text is "-1" or "0")
            return true;
        if (!TryHex(text, out ulong thread) || thread < 1 || thread > (ulong)debugger.VcpuCount)
            return false;
        vcpu = (int)thread - 1;
        return true;
    }

    private string WriteAllRegisters(string hex)
    {
        var regs = debugger.ReadRegisters(_generalVcpu).Regs;
        if (!GdbRegisters.TryDecodeAll(hex, ref regs))
            return "E00";
        debugger.WriteRegisters(_generalVcpu, in regs);
        return "OK";
    }

    private string WriteOneRegister(string text)
    {
        int equals = text.IndexOf('=', StringComparison.Ordinal);
        var regs = debugger.ReadRegisters(_generalVcpu).Regs;
        if (equals < 0 || !TryHex(text[..equals], out ulong regnum) || regnum > int.MaxValue || !GdbRegisters.TryDecodeOne((int)regnum, text[(equals + 1)..], ref regs))
            return "E00";
        debugger.WriteRegisters(_generalVcpu, in regs);
        return "OK";
    }

    private string ReadMemory(string text)
    {
        var parts = text.Split(',');
        if (parts.Length != 2 || !TryHex(parts[0], out ulong address) || !TryHex(parts[1], out ulong length))
            return "E00";
        var bytes = new byte[Math.Min(length, GdbPacketStream.MaxPayload / 2)];
        int read = debugger.ReadVirtual(_generalVcpu, address, bytes);
        return read == 0 && bytes.Length > 0 ? "E14" : Convert.ToHexString(bytes, 0, read).ToLowerInvariant();
    }

    /// <summary>M addr,len:hex or X addr,len:binary (the packet layer already undid the escapes).</summary>
    private string WriteMemory(string text, bool binary)
    {
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        var parts = colon < 0 ? [] : text[..colon].Split(',');
        if (parts.Length != 2 || !TryHex(parts[0], out ulong address) || !TryHex(parts[1], out ulong length))
            return "E00";
        string data = text[(colon + 1)..];
        byte[] bytes = Encoding.Latin1.GetBytes(data);
        if (!binary && !GdbRegisters.TryParseHex(data, out bytes))
            return "E00";
        if ((ulong)bytes.Length != length)
            return "E00";
        return debugger.WriteVirtual(_generalVcpu, address, bytes) ? "OK" : "E14";
    }

    /// <summary>Z0/z0 type,addr,kind: software breakpoints only; other types get the empty "not supported".</summary>
    private string Breakpoint(string packet)
    {
        var parts = packet[1..].Split(',');
        if (parts[0] != "0")
            return "";
        if (parts.Length < 2 || !TryHex(parts[1], out ulong address))
            return "E00";
        if (packet[0] == 'Z')
        {
            debugger.InsertBreakpoint(_generalVcpu, address);
            return "OK";
        }
        return debugger.RemoveBreakpoint(address) ? "OK" : "E00";
    }

    private static bool TryHex(string text, out ulong value) =>
        ulong.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
}
