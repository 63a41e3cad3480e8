using System.Runtime.InteropServices;
using Tmds.Linux;

namespace MiniVmm.Kvm;

/// <summary>A vCPU fd with its mmapped kvm_run. Use it from one thread, except <see cref="RequestImmediateExit"/>.</summary>
public sealed unsafe class KvmVcpu : KvmFd
{
    private readonly byte* _run;
    private readonly int _runSize;

    internal KvmVcpu(int fd, int id, int mmapSize) : base(fd)
    {
        Id = id;
        _runSize = mmapSize;
        // SAFETY: KVM's documented per-vCPU shared mapping of struct kvm_run; unmapped in ReleaseHandle.
        void* mapping = LibC.mmap(null, (size_t)(ulong)mmapSize, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd, 0);
        if (mapping == LibC.MAP_FAILED)
            throw new KvmException("mmap of kvm_run", Marshal.GetLastPInvokeError());
        _run = (byte*)mapping;
    }

    public int Id { get; }

    public KvmRun RunState => new(_run, _runSize);

    protected override bool ReleaseHandle()
    {
        _ = LibC.munmap(_run, (size_t)(ulong)_runSize);
        return base.ReleaseHandle();
    }

    /// <summary>KVM_RUN. Returns false when interrupted by a signal (EINTR) or an immediate-exit request.</summary>
    public bool Run()
    {
        int result = Native.IoctlValue(Fd, Ioctls.Run, 0);
        if (result >= 0)
            return true;
        int errno = Marshal.GetLastPInvokeError();
        if (errno is KvmException.EINTR or KvmException.EAGAIN)
            return false;
        throw new KvmException("KVM_RUN", errno);
    }

    /// <summary>Makes the next (or current, once signalled) KVM_RUN return at once. Safe from any thread.</summary>
    public void RequestImmediateExit() => RunState.SetImmediateExit(true);

    public KvmRegs GetRegs() => IoctlOut<KvmRegs>("KVM_GET_REGS", Ioctls.GetRegs);
    public void SetRegs(in KvmRegs regs) => IoctlIn("KVM_SET_REGS", Ioctls.SetRegs, regs);
    public KvmSregs GetSregs() => IoctlOut<KvmSregs>("KVM_GET_SREGS", Ioctls.GetSregs);
    public void SetSregs(in KvmSregs sregs) => IoctlIn("KVM_SET_SREGS", Ioctls.SetSregs, sregs);
    public KvmFpu GetFpu() => IoctlOut<KvmFpu>("KVM_GET_FPU", Ioctls.GetFpu);
    public void SetFpu(in KvmFpu fpu) => IoctlIn("KVM_SET_FPU", Ioctls.SetFpu, fpu);
    public KvmXsave GetXsave() => IoctlOut<KvmXsave>("KVM_GET_XSAVE", Ioctls.GetXsave);
    public void SetXsave(in KvmXsave xsave) => IoctlIn("KVM_SET_XSAVE", Ioctls.SetXsave, xsave);
    public KvmLapicState GetLapic() => IoctlOut<KvmLapicState>("KVM_GET_LAPIC", Ioctls.GetLapic);
    public void SetLapic(in KvmLapicState lapic) => IoctlIn("KVM_SET_LAPIC", Ioctls.SetLapic, lapic);
    public KvmVcpuEvents GetVcpuEvents() => IoctlOut<KvmVcpuEvents>("KVM_GET_VCPU_EVENTS", Ioctls.GetVcpuEvents);
    public void SetVcpuEvents(in KvmVcpuEvents events) => IoctlIn("KVM_SET_VCPU_EVENTS", Ioctls.SetVcpuEvents, events);
    /// <summary>KVM_SET_GUEST_DEBUG: which guest debug events exit to the VMM (software breakpoints, single step).</summary>
    public void SetGuestDebug(KvmGuestDebugFlags flags) => IoctlIn("KVM_SET_GUEST_DEBUG", Ioctls.SetGuestDebug, new KvmGuestDebug { Control = flags });
    public uint GetMpState() => IoctlOut<uint>("KVM_GET_MP_STATE", Ioctls.GetMpState);
    public void SetMpState(uint state) => IoctlIn("KVM_SET_MP_STATE", Ioctls.SetMpState, state);

    /// <summary>Translates a guest-virtual address with the vCPU's current paging mode.</summary>
    public KvmTranslation Translate(ulong linearAddress)
    {
        var translation = new KvmTranslation { LinearAddress = linearAddress };
        IoctlPointer("KVM_TRANSLATE", Ioctls.Translate, &translation);
        return translation;
    }

    public void SetCpuid(ReadOnlySpan<KvmCpuidEntry2> entries)
    {
        var buffer = new byte[8 + entries.Length * sizeof(KvmCpuidEntry2)];
        MemoryMarshal.Write(buffer, (uint)entries.Length);
        MemoryMarshal.AsBytes(entries).CopyTo(buffer.AsSpan(8));
        fixed (byte* p = buffer)
            IoctlPointer("KVM_SET_CPUID2", Ioctls.SetCpuid2, p);
    }

    /// <summary>KVM_SET_MSRS; throws unless every entry was accepted.</summary>
    public void SetMsrs(ReadOnlySpan<KvmMsrEntry> entries)
    {
        var buffer = new byte[8 + entries.Length * sizeof(KvmMsrEntry)];
        MemoryMarshal.Write(buffer, (uint)entries.Length);
        MemoryMarshal.AsBytes(entries).CopyTo(buffer.AsSpan(8));
        int accepted;
        fixed (byte* p = buffer)
            accepted = IoctlPointer("KVM_SET_MSRS", Ioctls.SetMsrs, p);
        if (accepted != entries.Length)
            throw new InvalidOperationException(
                $"KVM_SET_MSRS accepted {accepted} of {entries.Length} MSRs; first refused: 0x{entries[accepted].Index:x}");
    }

    public ulong GetMsr(uint index)
    {
        var buffer = new byte[8 + sizeof(KvmMsrEntry)];
        MemoryMarshal.Write(buffer, 1u);
        MemoryMarshal.Write(buffer.AsSpan(8), new KvmMsrEntry(index, 0));
        fixed (byte* p = buffer)
        {
            if (IoctlPointer("KVM_GET_MSRS", Ioctls.GetMsrs, p) != 1)
                throw new InvalidOperationException($"KVM_GET_MSRS did not return MSR 0x{index:x}");
        }
        return MemoryMarshal.Read<KvmMsrEntry>(buffer.AsSpan(8)).Data;
    }
}
