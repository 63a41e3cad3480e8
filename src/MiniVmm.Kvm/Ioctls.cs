namespace MiniVmm.Kvm;

/// <summary>KVM ioctl request numbers, derived from the struct sizes (see <see cref="IoctlNumber"/>).</summary>
internal static unsafe class Ioctls
{
    // System (/dev/kvm)
    public static readonly nuint GetApiVersion = IoctlNumber.IO(0x00);
    public static readonly nuint CreateVm = IoctlNumber.IO(0x01);
    public static readonly nuint CheckExtension = IoctlNumber.IO(0x03);
    public static readonly nuint GetVcpuMmapSize = IoctlNumber.IO(0x04);
    public static readonly nuint GetSupportedCpuid = IoctlNumber.IOWR(0x05, 8);

    // VM
    public static readonly nuint CreateVcpu = IoctlNumber.IO(0x41);
    public static readonly nuint SetUserMemoryRegion = IoctlNumber.IOW(0x46, sizeof(KvmUserspaceMemoryRegion));
    public static readonly nuint SetTssAddr = IoctlNumber.IO(0x47);
    public static readonly nuint SetIdentityMapAddr = IoctlNumber.IOW(0x48, 8);
    public static readonly nuint CreateIrqchip = IoctlNumber.IO(0x60);
    public static readonly nuint IrqLine = IoctlNumber.IOW(0x61, sizeof(KvmIrqLevel));
    public static readonly nuint SetGsiRouting = IoctlNumber.IOW(0x6A, 8);
    public static readonly nuint Irqfd = IoctlNumber.IOW(0x76, sizeof(KvmIrqfd));
    public static readonly nuint CreatePit2 = IoctlNumber.IOW(0x77, sizeof(KvmPitConfig));
    public static readonly nuint Ioeventfd = IoctlNumber.IOW(0x79, sizeof(KvmIoeventfd));
    public static readonly nuint SignalMsi = IoctlNumber.IOW(0xA5, sizeof(KvmMsi));

    // vCPU
    public static readonly nuint Run = IoctlNumber.IO(0x80);
    public static readonly nuint GetRegs = IoctlNumber.IOR(0x81, sizeof(KvmRegs));
    public static readonly nuint SetRegs = IoctlNumber.IOW(0x82, sizeof(KvmRegs));
    public static readonly nuint GetSregs = IoctlNumber.IOR(0x83, sizeof(KvmSregs));
    public static readonly nuint SetSregs = IoctlNumber.IOW(0x84, sizeof(KvmSregs));
    public static readonly nuint Translate = IoctlNumber.IOWR(0x85, sizeof(KvmTranslation));
    public static readonly nuint GetMsrs = IoctlNumber.IOWR(0x88, 8);
    public static readonly nuint SetMsrs = IoctlNumber.IOW(0x89, 8);
    public static readonly nuint GetFpu = IoctlNumber.IOR(0x8C, sizeof(KvmFpu));
    public static readonly nuint SetFpu = IoctlNumber.IOW(0x8D, sizeof(KvmFpu));
    public static readonly nuint GetLapic = IoctlNumber.IOR(0x8E, sizeof(KvmLapicState));
    public static readonly nuint SetLapic = IoctlNumber.IOW(0x8F, sizeof(KvmLapicState));
    public static readonly nuint SetCpuid2 = IoctlNumber.IOW(0x90, 8);
    public static readonly nuint GetMpState = IoctlNumber.IOR(0x98, 4);
    public static readonly nuint SetMpState = IoctlNumber.IOW(0x99, 4);
    public static readonly nuint SetGuestDebug = IoctlNumber.IOW(0x9B, sizeof(KvmGuestDebug));
    public static readonly nuint GetVcpuEvents = IoctlNumber.IOR(0x9F, sizeof(KvmVcpuEvents));
    public static readonly nuint SetVcpuEvents = IoctlNumber.IOW(0xA0, sizeof(KvmVcpuEvents));
    public static readonly nuint GetXsave = IoctlNumber.IOR(0xA4, sizeof(KvmXsave));
    public static readonly nuint SetXsave = IoctlNumber.IOW(0xA5, sizeof(KvmXsave));
}

/// <summary>kvm_userspace_memory_region.flags.</summary>
[Flags]
public enum KvmMemoryFlags : uint
{
    None = 0,
    LogDirtyPages = 1 << 0,
    /// <summary>KVM_MEM_READONLY (KVM_CAP_READONLY_MEM): guest writes exit as KVM_EXIT_MMIO.</summary>
    ReadOnly = 1 << 1,
}

/// <summary>KVM_CAP_* numbers this VMM checks.</summary>
public enum KvmCapability
{
    Irqchip = 0,
    UserMemory = 3,
    SetTssAddr = 4,
    ExtCpuid = 7,
    NrMemslots = 10,
    IrqRouting = 25,
    Irqfd = 32,
    Pit2 = 33,
    ReadonlyMem = 31,
    Ioeventfd = 36,
    TscDeadlineTimer = 72,
    SignalMsi = 77,
    ImmediateExit = 136,
    IoeventfdAnyLength = 122,
}
