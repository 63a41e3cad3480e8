using System.Runtime.InteropServices;

namespace MiniVmm.Kvm;

/// <summary>KVM_EXIT_* reasons (linux/kvm.h).</summary>
public enum KvmExitReason : uint
{
    Unknown = 0,
    Exception = 1,
    Io = 2,
    Hypercall = 3,
    Debug = 4,
    Hlt = 5,
    Mmio = 6,
    IrqWindowOpen = 7,
    Shutdown = 8,
    FailEntry = 9,
    Intr = 10,
    SetTpr = 11,
    TprAccess = 12,
    Nmi = 16,
    InternalError = 17,
    SystemEvent = 24,
    IoapicEoi = 26,
}

/// <summary>KVM_SYSTEM_EVENT_* types.</summary>
public enum KvmSystemEventType : uint
{
    Shutdown = 1,
    Reset = 2,
    Crash = 3,
}

/// <summary>
/// A typed view of the vCPU's mmapped struct kvm_run. Only the owning vCPU thread reads it, except
/// <see cref="ImmediateExit"/>, which another thread sets to kick the vCPU out of KVM_RUN.
/// </summary>
public readonly unsafe struct KvmRun
{
    private readonly byte* _base;
    private readonly int _size;

    internal KvmRun(byte* basePointer, int size)
    {
        _base = basePointer;
        _size = size;
    }

    // Offsets in struct kvm_run (x86-64).
    private const int ImmediateExitOffset = 1;
    private const int ExitReasonOffset = 8;
    private const int IfFlagOffset = 13;
    private const int UnionOffset = 32;

    public KvmExitReason ExitReason => (KvmExitReason)Read<uint>(ExitReasonOffset);

    public bool InterruptFlag => _base[IfFlagOffset] != 0;

    public bool ImmediateExit => Volatile.Read(ref _base[ImmediateExitOffset]) != 0;

    public void SetImmediateExit(bool value) => Volatile.Write(ref _base[ImmediateExitOffset], value ? (byte)1 : (byte)0);

    // io: direction u8 @32, size u8 @33, port u16 @34, count u32 @36, data_offset u64 @40.
    public bool IoIsOut => _base[UnionOffset] == 1;
    public int IoSize => _base[UnionOffset + 1];
    public ushort IoPort => Read<ushort>(UnionOffset + 2);
    public uint IoCount => Read<uint>(UnionOffset + 4);

    /// <summary>The data of a port access: count items of size bytes, inside the kvm_run mapping.</summary>
    public Span<byte> IoData
    {
        get
        {
            ulong offset = Read<ulong>(UnionOffset + 8);
            ulong length = (ulong)IoSize * IoCount;
            if (offset > (ulong)_size || length > (ulong)_size - offset)
                throw new InvalidOperationException($"KVM reported I/O data at 0x{offset:x}+{length} outside kvm_run");
            return new Span<byte>(_base + offset, (int)length);
        }
    }

    // mmio: phys_addr u64 @32, data[8] @40, len u32 @48, is_write u8 @52.
    public ulong MmioAddress => Read<ulong>(UnionOffset);
    public bool MmioIsWrite => _base[UnionOffset + 20] != 0;
    public Span<byte> MmioData => new(_base + UnionOffset + 8, (int)Math.Min(8u, Read<uint>(UnionOffset + 16)));

    // internal: suberror u32 @32, ndata u32 @36, data[16] u64 @40.
    public uint InternalSuberror => Read<uint>(UnionOffset);
    public ReadOnlySpan<ulong> InternalData =>
        new(_base + UnionOffset + 8, (int)Math.Min(16u, Read<uint>(UnionOffset + 4)));

    // fail_entry: hardware_entry_failure_reason u64 @32, cpu u32 @40.
    public ulong FailEntryReason => Read<ulong>(UnionOffset);

    // system_event: type u32 @32.
    public KvmSystemEventType SystemEventType => (KvmSystemEventType)Read<uint>(UnionOffset);

    // debug (kvm_debug_exit_arch): exception u32 @32, pc u64 @40; the exception number is read with ExceptionNumber.
    public ulong DebugPc => Read<ulong>(UnionOffset + 8);

    // ex: exception u32 @32, error_code u32 @36.
    public uint ExceptionNumber => Read<uint>(UnionOffset);
    public uint ExceptionErrorCode => Read<uint>(UnionOffset + 4);

    private T Read<T>(int offset) where T : unmanaged => MemoryMarshal.Read<T>(new ReadOnlySpan<byte>(_base + offset, sizeof(T)));
}

/// <summary>KVM internal-error sub-codes.</summary>
public static class KvmInternalError
{
    public const uint EmulationFailure = 1;
    public const uint SimulEx = 2;
    public const uint DeliveryEv = 3;
    public const uint UnexpectedExitReason = 4;
}
