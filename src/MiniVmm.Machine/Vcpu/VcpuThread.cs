using MiniVmm.Kvm;
using MiniVmm.Machine.Bus;
using MiniVmm.Machine.Debug;
using MiniVmm.Memory;

namespace MiniVmm.Machine.Vcpu;

/// <summary>
/// One vCPU's run loop: KVM_RUN, dispatch the exit to the port or MMIO bus, repeat. Exits the VMM
/// cannot handle end the machine with a diagnosis. Read top to bottom: this is the whole loop.
/// </summary>
public sealed class VcpuThread
{
    private readonly KvmVcpu _vcpu;
    private readonly IoBus _pio;
    private readonly IoBus _mmio;
    private readonly IMachineControl _control;
    private readonly Tracer _tracer;
    private readonly GuestVirtualMemory _virtualMemory;
    private readonly InstructionFallback _fallback = new();
    private GuestDebugger? _debugger;
    private volatile bool _stopping;
    private nuint _pthread;
    private long _exitCount;

    public VcpuThread(KvmVcpu vcpu, GuestMemory memory, IoBus pio, IoBus mmio, IMachineControl control, Tracer tracer)
    {
        _vcpu = vcpu;
        _pio = pio;
        _mmio = mmio;
        _control = control;
        _tracer = tracer;
        _virtualMemory = new GuestVirtualMemory(vcpu, memory);
    }

    public int Id => _vcpu.Id;
    public long ExitCount => Interlocked.Read(ref _exitCount);
    public InstructionFallback Fallback => _fallback;
    internal KvmVcpu Vcpu => _vcpu;

    /// <summary>Set before <see cref="Run"/> when a gdb stub is attached to the machine; null keeps the loop as it is.</summary>
    internal GuestDebugger? Debugger
    {
        set => _debugger = value;
    }

    /// <summary>The run loop; returns when the machine stops.</summary>
    public void Run()
    {
        _pthread = VcpuKicker.CurrentThread();
        while (!_stopping)
        {
            _debugger?.BeforeRun(this); // parks here while gdb has the machine stopped
            if (!_vcpu.Run())
            {
                _vcpu.RunState.SetImmediateExit(false);
                continue; // a kick: re-check _stopping
            }
            Interlocked.Increment(ref _exitCount);
            if (!HandleExit(_vcpu.RunState))
                return;
        }
    }

    /// <summary>Asks the loop to end and kicks the vCPU out of KVM_RUN. Safe from any thread.</summary>
    public void Stop()
    {
        _stopping = true;
        Interrupt();
    }

    /// <summary>Kicks the vCPU out of KVM_RUN (or makes its next KVM_RUN return at once) so the loop runs again. Safe from any thread.</summary>
    public void Interrupt()
    {
        _vcpu.RequestImmediateExit();
        if (_pthread != 0)
            VcpuKicker.Kick(_pthread);
    }

    private bool HandleExit(KvmRun run)
    {
        switch (run.ExitReason)
        {
            case KvmExitReason.Io:
                HandlePio(run);
                return true;
            case KvmExitReason.Mmio:
                HandleMmio(run);
                return true;
            case KvmExitReason.InternalError when run.InternalSuberror == KvmInternalError.EmulationFailure:
                return TryCompleteInstruction();
            case KvmExitReason.Debug when _debugger is not null:
                _debugger.OnDebugExit(this, run.ExceptionNumber, run.DebugPc);
                return true;
            case KvmExitReason.SystemEvent:
                return StopForSystemEvent(run.SystemEventType);
            case KvmExitReason.Intr:
                return true;
            case KvmExitReason.Shutdown:
                return Fail("KVM_EXIT_SHUTDOWN: the guest triple-faulted (an exception while delivering a double fault)");
            case KvmExitReason.FailEntry:
                return Fail($"KVM_EXIT_FAIL_ENTRY: hardware refused to enter the guest (reason 0x{run.FailEntryReason:x})");
            case KvmExitReason.InternalError:
                return Fail($"KVM_EXIT_INTERNAL_ERROR suberror {run.InternalSuberror} (data {string.Join(' ', run.InternalData.ToArray().Select(d => $"0x{d:x}"))})");
            case KvmExitReason.Hlt:
                return Fail("KVM_EXIT_HLT: the guest halted with no in-kernel irqchip to wake it");
            default:
                return Fail($"unexpected KVM exit {run.ExitReason} ({(uint)run.ExitReason})");
        }
    }

    private void HandlePio(KvmRun run)
    {
        var data = run.IoData;
        int size = run.IoSize;
        ushort port = run.IoPort;
        // String I/O (rep outsb/insb) arrives as count items of size bytes: dispatch each one.
        for (int offset = 0; offset + size <= data.Length; offset += size)
        {
            var item = data.Slice(offset, size);
            if (run.IoIsOut)
                _pio.Write(port, item);
            else
                _pio.Read(port, item);
            if (_tracer.IsEnabled(TraceCategories.Pio))
                _tracer.Write(TraceCategories.Pio, $"vcpu{Id} {(run.IoIsOut ? "out" : "in ")} port 0x{port:x4} size {size} value 0x{Convert.ToHexString(ReverseCopy(item))}");
        }
    }

    private void HandleMmio(KvmRun run)
    {
        var data = run.MmioData;
        ulong address = run.MmioAddress;
        if (run.MmioIsWrite)
            _mmio.Write(address, data);
        else
            _mmio.Read(address, data);
        if (_tracer.IsEnabled(TraceCategories.Mmio))
            _tracer.Write(TraceCategories.Mmio, $"vcpu{Id} {(run.MmioIsWrite ? "write" : "read ")} 0x{address:x} size {data.Length} value 0x{Convert.ToHexString(ReverseCopy(data))}");
    }

    private static byte[] ReverseCopy(ReadOnlySpan<byte> littleEndian)
    {
        var bytes = littleEndian.ToArray();
        Array.Reverse(bytes);
        return bytes;
    }

    private bool TryCompleteInstruction()
    {
        var regs = _vcpu.GetRegs();
        var sregs = _vcpu.GetSregs();
        var decoded = DecodedInstruction.AtRip(_virtualMemory, in regs, in sregs);
        // kvm_pvm fails int3 at CPL0: one of gdb's breakpoints stops the machine instead of reaching the guest.
        if (_debugger is not null && decoded?.Instruction.Code == Iced.Intel.Code.Int3 && _debugger.OnBreakpointInstruction(this, regs.Rip))
            return true;
        if (decoded is not null && !decoded.Instruction.IsInvalid && _fallback.TryComplete(_vcpu, _virtualMemory, decoded))
        {
            _tracer.Write(TraceCategories.Emulation, $"vcpu{Id} completed '{decoded.Text}' at 0x{regs.Rip:x} for the host KVM");
            return true;
        }
        return Fail("KVM_EXIT_INTERNAL_ERROR (emulation failure): the host's KVM could not emulate the instruction at RIP, and MiniVmm cannot complete it either", regs, sregs, decoded);
    }

    private bool StopForSystemEvent(KvmSystemEventType type)
    {
        _control.RequestStop(type switch
        {
            KvmSystemEventType.Shutdown => new StopReason(ExitCodes.GuestPowerOff, "guest powered off"),
            KvmSystemEventType.Reset => new StopReason(ExitCodes.GuestPowerOff, "guest reset the machine"),
            _ => new StopReason(ExitCodes.GuestFailure, $"guest reported a crash (system event {type})"),
        });
        return false;
    }

    private bool Fail(string what)
    {
        var regs = _vcpu.GetRegs();
        var sregs = _vcpu.GetSregs();
        return Fail(what, regs, sregs, DecodedInstruction.AtRip(_virtualMemory, in regs, in sregs));
    }

    private bool Fail(string what, in KvmRegs regs, in KvmSregs sregs, DecodedInstruction? decoded)
    {
        _control.RequestStop(new StopReason(ExitCodes.GuestFailure, ExitDiagnosis.Describe(Id, what, in regs, in sregs, decoded)));
        return false;
    }
}
