using Iced.Intel;
using MiniVmm.Kvm;
using MiniVmm.Machine.Vcpu;
using MiniVmm.Memory;

namespace MiniVmm.Machine.Debug;

/// <summary>Why the machine stopped for gdb: the vCPU that stopped it and the signal gdb is told (5 SIGTRAP, 2 SIGINT).</summary>
public readonly record struct DebugStop(int VcpuId, int Signal, bool AtBreakpoint)
{
    public const int SigInt = 2, SigTrap = 5;
}

/// <summary>
/// Stops and resumes the vCPUs for gdb, and owns gdb's breakpoints. All-stop: when one vCPU stops (a
/// breakpoint, a finished single step) or gdb interrupts, every vCPU is kicked out of KVM_RUN and parks
/// at the top of its loop; gdb reads and writes state only while all are parked, and a single step lets
/// just the stepping vCPU run.
///
/// Breakpoints are int3 bytes written into guest memory at the physical address their virtual address
/// maps to (the original byte is kept, shown to gdb's reads, and restored on removal or detach). A
/// breakpoint on a page not mapped yet (kernel text before the kernel's own page tables) stays pending and
/// is written as soon as a vCPU's page tables map it.
///
/// How a breakpoint comes back differs by host. Hardware KVM with KVM_GUESTDBG_USE_SW_BP exits with
/// KVM_EXIT_DEBUG (#BP); kvm_pvm accepts that flag but still reports an int3 at CPL0 as an emulation
/// failure (measured 2026-12-07), which the vCPU loop hands to <see cref="OnBreakpointInstruction"/>.
/// Single steps use KVM_GUESTDBG_SINGLESTEP (#DB), which works on both; only where the host refuses
/// KVM_SET_GUEST_DEBUG does a step plant temporary breakpoints where the instruction can go (<see cref="StepTargets"/>).
/// </summary>
public sealed class GuestDebugger
{
    private const byte Int3 = 0xCC;
    private const byte VectorBreakpoint = 3;

    private readonly IReadOnlyList<VcpuThread> _vcpus;
    private readonly GuestMemory _memory;
    private readonly Tracer _tracer;

    // _gate guards everything below it; vCPU threads wait on it while parked.
    private readonly object _gate = new();
    private readonly bool[] _mayRun;
    private readonly bool[] _parked;
    private readonly Dictionary<ulong, Breakpoint> _breakpoints = [];
    private readonly List<Breakpoint> _stepBreakpoints = [];
    private DebugStop? _stop;
    private int _steppingVcpu = -1;
    private bool _attached;
    private bool _released;
    /// <summary>Cleared when the host refuses KVM_SET_GUEST_DEBUG: breakpoints then rely on int3 coming back as an emulation failure, steps on temporary breakpoints.</summary>
    private bool _guestDebugWorks = true;
    /// <summary>Cleared when the host refuses KVM_GUESTDBG_BLOCKIRQ.</summary>
    private bool _blockInterruptsWorks = true;
    /// <summary>Read without the lock on every loop turn: false means "run, nothing to do" (no pause, no pending breakpoint).</summary>
    private volatile bool _attention;

    private sealed class Breakpoint(ulong address)
    {
        public ulong Address { get; } = address;
        public GuestAddress? Physical { get; set; }
        public byte Original { get; set; }
    }

    /// <param name="startStopped">--gdb-wait: every vCPU parks before its first instruction until gdb resumes it.</param>
    public GuestDebugger(IReadOnlyList<VcpuThread> vcpus, GuestMemory memory, bool startStopped, Tracer tracer)
    {
        _tracer = tracer;
        _vcpus = vcpus;
        _memory = memory;
        _mayRun = Enumerable.Repeat(!startStopped, vcpus.Count).ToArray();
        // With --gdb-wait a vCPU whose thread has not started yet counts as parked: it parks before its first KVM_RUN.
        // gdb's first packets must be answered within its 2 s timeout even while the machine is still being set up.
        _parked = Enumerable.Repeat(startStopped, vcpus.Count).ToArray();
        if (startStopped)
            _stop = new DebugStop(0, DebugStop.SigTrap, AtBreakpoint: false);
        _attention = startStopped;
        foreach (var vcpu in vcpus)
            vcpu.Debugger = this;
    }

    public int VcpuCount => _vcpus.Count;

    // ---- vCPU side ----

    /// <summary>At the top of each vCPU loop turn: writes pending breakpoints that became mapped, and parks while gdb holds the machine.</summary>
    internal void BeforeRun(VcpuThread vcpu)
    {
        if (!_attention)
            return;
        lock (_gate)
        {
            InsertPendingLocked(vcpu);
            while (!_mayRun[vcpu.Id] && !_released)
            {
                _parked[vcpu.Id] = true;
                Monitor.PulseAll(_gate);
                Monitor.Wait(_gate);
            }
            _parked[vcpu.Id] = false;
            UpdateAttentionLocked();
        }
    }

    /// <summary>KVM_EXIT_DEBUG (hardware KVM): our single step or breakpoint stops the machine; the guest's own int3 goes back to it.</summary>
    internal void OnDebugExit(VcpuThread vcpu, uint exception, ulong pc)
    {
        lock (_gate)
        {
            bool ours = exception != VectorBreakpoint || _breakpoints.ContainsKey(pc);
            _tracer.Write(TraceCategories.Exits, $"vcpu{vcpu.Id} KVM_EXIT_DEBUG exception {exception} at 0x{pc:x}: {(ours ? "stops for gdb" : "the guest's own int3, given back")}");
            if (!ours)
            {
                // The guest's int3 (text_poke, self-tests): RIP stays on it, KVM adds the length of a soft exception.
                InstructionFallback.Inject(vcpu.Vcpu, VectorBreakpoint);
                return;
            }
            // Our breakpoint, our single step (#DB), or any other debug exit: stop and tell gdb.
            StopAllLocked(vcpu.Id, DebugStop.SigTrap, atBreakpoint: exception == VectorBreakpoint);
        }
    }

    /// <summary>An int3 the host's KVM could not emulate (kvm_pvm): true when it is ours, and the machine stops; false leaves it to the guest.</summary>
    internal bool OnBreakpointInstruction(VcpuThread vcpu, ulong rip)
    {
        lock (_gate)
        {
            bool stepDone = _steppingVcpu == vcpu.Id && _stepBreakpoints.Any(b => b.Address == rip);
            if (!stepDone && !(_breakpoints.TryGetValue(rip, out var breakpoint) && breakpoint.Physical is not null))
                return false;
            _tracer.Write(TraceCategories.Exits, $"vcpu{vcpu.Id} int3 at 0x{rip:x} (emulation failure) is gdb's {(stepDone ? "single-step breakpoint" : "breakpoint")}: stops for gdb");
            StopAllLocked(vcpu.Id, DebugStop.SigTrap, atBreakpoint: !stepDone);
            return true;
        }
    }

    /// <param name="vcpuId">The vCPU reported to gdb; when the caller is that vCPU's own thread (<paramref name="fromVcpu"/>), it needs no kick.</param>
    private void StopAllLocked(int vcpuId, int signal, bool atBreakpoint, bool fromVcpu = true)
    {
        _stop ??= new DebugStop(vcpuId, signal, atBreakpoint);
        RemoveStepBreakpointsLocked();
        _steppingVcpu = -1;
        Array.Fill(_mayRun, false);
        _attention = true;
        Monitor.PulseAll(_gate);
        foreach (var vcpu in _vcpus)
        {
            if (!fromVcpu || vcpu.Id != vcpuId)
                vcpu.Interrupt();
        }
    }

    // ---- gdb side ----

    /// <summary>gdb attached: guest int3s exit to us from now on (hardware KVM), and the machine stops.</summary>
    public void Attach()
    {
        lock (_gate)
        {
            _attached = true;
            StopAllLocked(0, DebugStop.SigInt, atBreakpoint: false, fromVcpu: false);
        }
    }

    /// <summary>Ctrl-C from gdb.</summary>
    public void Interrupt()
    {
        lock (_gate)
            StopAllLocked(0, DebugStop.SigInt, atBreakpoint: false, fromVcpu: false);
    }

    /// <summary>The machine stopped for good (power-off, timeout): nobody parks any more.</summary>
    public void Release()
    {
        lock (_gate)
        {
            _released = true;
            Monitor.PulseAll(_gate);
        }
    }

    public bool Released
    {
        get
        {
            lock (_gate)
                return _released;
        }
    }

    /// <summary>The stop, once every vCPU is parked; null when that did not happen within <paramref name="timeout"/> or the machine is gone.</summary>
    public DebugStop? WaitForStop(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_gate)
        {
            while (!_released && (_stop is null || _parked.Any(parked => !parked)))
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || !Monitor.Wait(_gate, left))
                    return null;
            }
            return _released ? null : _stop;
        }
    }

    /// <summary>Continues every vCPU, or single-steps one while the others stay parked.</summary>
    public void Resume(int? stepVcpu)
    {
        lock (_gate)
        {
            _stop = null;
            ApplyGuestDebugLocked(stepVcpu);
            if (stepVcpu is { } id && !_released)
            {
                _steppingVcpu = id;
                if (!_guestDebugWorks)
                    PlantStepBreakpointsLocked(_vcpus[id]);
                _mayRun[id] = true;
            }
            else
            {
                Array.Fill(_mayRun, true);
            }
            UpdateAttentionLocked();
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>gdb detached (or went away): every breakpoint is removed and the guest runs on as if gdb had never been there.</summary>
    public void Detach()
    {
        lock (_gate)
        {
            foreach (var breakpoint in _breakpoints.Values)
                Restore(breakpoint);
            _breakpoints.Clear();
            RemoveStepBreakpointsLocked(); // gdb may leave in the middle of a step
            _steppingVcpu = -1;
            _attached = false;
        }
        Resume(stepVcpu: null);
    }

    public VcpuRegisterState ReadRegisters(int vcpuId)
    {
        var vcpu = _vcpus[vcpuId].Vcpu;
        return new VcpuRegisterState { Regs = vcpu.GetRegs(), Sregs = vcpu.GetSregs(), Fpu = vcpu.GetFpu() };
    }

    public void WriteRegisters(int vcpuId, in KvmRegs regs) => _vcpus[vcpuId].Vcpu.SetRegs(in regs);

    /// <summary>Reads guest-virtual memory through <paramref name="vcpuId"/>'s page tables up to the first unmapped byte; our int3s read as the bytes they replaced.</summary>
    public int ReadVirtual(int vcpuId, ulong address, Span<byte> destination)
    {
        var paging = PagingState.Of(_vcpus[vcpuId].Vcpu.GetSregs());
        int done = ReadVirtual(paging, address, destination);
        lock (_gate)
        {
            foreach (var breakpoint in _breakpoints.Values.Concat(_stepBreakpoints))
            {
                ulong offset = breakpoint.Address - address;
                if (breakpoint.Physical is not null && breakpoint.Address >= address && offset < (ulong)done)
                    destination[(int)offset] = breakpoint.Original;
            }
        }
        return done;
    }

    /// <summary>Writes all of <paramref name="source"/> or nothing; a byte under one of our breakpoints becomes the byte restored on removal.</summary>
    public bool WriteVirtual(int vcpuId, ulong address, ReadOnlySpan<byte> source)
    {
        var paging = PagingState.Of(_vcpus[vcpuId].Vcpu.GetSregs());
        var pieces = new List<(GuestAddress Physical, int Offset, int Length)>();
        for (int done = 0; done < source.Length;)
        {
            ulong at = address + (ulong)done;
            int chunk = (int)Math.Min((ulong)(source.Length - done), GuestMemory.PageSize - (at % GuestMemory.PageSize));
            if (!PageTableWalk.TryTranslate(_memory, paging, at, out var physical) || _memory.TryGetSpan(physical, (ulong)chunk, out _) != GuestMemoryError.None)
                return false;
            pieces.Add((physical, done, chunk));
            done += chunk;
        }
        lock (_gate)
        {
            foreach (var (physical, offset, length) in pieces)
                _memory.Write(physical, source.Slice(offset, length));
            foreach (var breakpoint in _breakpoints.Values)
            {
                if (breakpoint.Physical is null || breakpoint.Address < address || breakpoint.Address - address >= (ulong)source.Length)
                    continue;
                breakpoint.Original = source[(int)(breakpoint.Address - address)];
                _memory.Write(breakpoint.Physical!.Value, [Int3]);
            }
        }
        return true;
    }

    /// <summary>Z0: always accepted; written now if <paramref name="vcpuId"/>'s page tables map the address, else when they do.</summary>
    public void InsertBreakpoint(int vcpuId, ulong address)
    {
        lock (_gate)
        {
            if (_breakpoints.ContainsKey(address))
                return;
            var breakpoint = new Breakpoint(address);
            _breakpoints[address] = breakpoint;
            TryPlant(breakpoint, PagingState.Of(_vcpus[vcpuId].Vcpu.GetSregs()));
            UpdateAttentionLocked();
        }
    }

    /// <summary>z0: restores the original byte; false when there was no breakpoint there.</summary>
    public bool RemoveBreakpoint(ulong address)
    {
        lock (_gate)
        {
            if (!_breakpoints.Remove(address, out var breakpoint))
                return false;
            Restore(breakpoint);
            return true;
        }
    }

    /// <summary>Guest debug flags for every (parked) vCPU: while gdb is attached, int3 exits to us (hardware KVM); the stepping vCPU also single-steps.</summary>
    private void ApplyGuestDebugLocked(int? stepVcpu)
    {
        if (!_guestDebugWorks || _released)
            return; // released: the vCPUs are being closed
        foreach (var vcpu in _vcpus)
        {
            var flags = _attached ? KvmGuestDebugFlags.Enable | KvmGuestDebugFlags.UseSoftwareBreakpoints : KvmGuestDebugFlags.None;
            if (_attached && vcpu.Id == stepVcpu)
                flags |= KvmGuestDebugFlags.SingleStep | (_blockInterruptsWorks ? KvmGuestDebugFlags.BlockInterrupts : 0);
            try
            {
                try
                {
                    vcpu.Vcpu.SetGuestDebug(flags);
                }
                catch (KvmException) when ((flags & KvmGuestDebugFlags.BlockInterrupts) != 0)
                {
                    // Hosts before Linux 5.16 refuse the flag: step without it (a pending interrupt's handler may be the step).
                    _blockInterruptsWorks = false;
                    vcpu.Vcpu.SetGuestDebug(flags & ~KvmGuestDebugFlags.BlockInterrupts);
                }
            }
            catch (KvmException error)
            {
                _tracer.Write(TraceCategories.Exits, $"{error.Message}: breakpoints rely on int3 coming back as an emulation failure");
                _guestDebugWorks = false;
                return;
            }
        }
    }

    private void UpdateAttentionLocked() =>
        _attention = _mayRun.Any(run => !run) || _breakpoints.Values.Any(b => b.Physical is null);

    private void InsertPendingLocked(VcpuThread vcpu)
    {
        if (_breakpoints.Values.All(b => b.Physical is not null))
            return;
        var paging = PagingState.Of(vcpu.Vcpu.GetSregs());
        foreach (var breakpoint in _breakpoints.Values.Where(b => b.Physical is null))
            TryPlant(breakpoint, paging);
    }

    private bool TryPlant(Breakpoint breakpoint, PagingState paging)
    {
        if (!PageTableWalk.TryTranslate(_memory, paging, breakpoint.Address, out var physical)
            || _memory.TryRead(physical, out byte original) != GuestMemoryError.None)
            return false;
        breakpoint.Original = original;
        breakpoint.Physical = physical;
        _memory.Write(physical, [Int3]);
        return true;
    }

    private void Restore(Breakpoint breakpoint)
    {
        if (breakpoint.Physical is { } physical)
            _memory.Write(physical, [breakpoint.Original]);
        breakpoint.Physical = null;
    }

    /// <summary>A single step without KVM's help: an int3 at every address the instruction at RIP can continue at (none where one of gdb's already is).</summary>
    private void PlantStepBreakpointsLocked(VcpuThread vcpu)
    {
        var regs = vcpu.Vcpu.GetRegs();
        var sregs = vcpu.Vcpu.GetSregs();
        var paging = PagingState.Of(in sregs);
        var bytes = new byte[15];
        int read = ReadVirtual(paging, regs.Rip, bytes);
        var decoder = Decoder.Create(DecodedInstruction.BitnessOf(in sregs), new ByteArrayCodeReader(bytes, 0, read), regs.Rip);
        decoder.Decode(out var instruction);
        var targets = instruction.IsInvalid ? [] : StepTargets.Of(in instruction, in regs, in sregs, at =>
        {
            Span<byte> value = stackalloc byte[8];
            return ReadVirtual(paging, at, value) == 8 ? BitConverter.ToUInt64(value) : null;
        });
        foreach (ulong target in targets.Distinct())
        {
            if (_breakpoints.TryGetValue(target, out var existing) && existing.Physical is not null)
                continue;
            var breakpoint = new Breakpoint(target);
            if (TryPlant(breakpoint, paging))
                _stepBreakpoints.Add(breakpoint);
        }
    }

    private void RemoveStepBreakpointsLocked()
    {
        // Last planted first: two targets never share a byte, but restoring in reverse is right even if they did.
        for (int i = _stepBreakpoints.Count - 1; i >= 0; i--)
            Restore(_stepBreakpoints[i]);
        _stepBreakpoints.Clear();
    }

    private int ReadVirtual(PagingState paging, ulong address, Span<byte> destination)
    {
        int done = 0;
        while (done < destination.Length)
        {
            ulong at = address + (ulong)done;
            int chunk = (int)Math.Min((ulong)(destination.Length - done), GuestMemory.PageSize - (at % GuestMemory.PageSize));
            if (!PageTableWalk.TryTranslate(_memory, paging, at, out var physical) || _memory.TryRead(physical, destination.Slice(done, chunk)) != GuestMemoryError.None)
                break;
            done += chunk;
        }
        return done;
    }
}
