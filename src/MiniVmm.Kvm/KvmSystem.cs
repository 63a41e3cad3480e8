using System.Runtime.InteropServices;
using Tmds.Linux;

namespace MiniVmm.Kvm;

/// <summary>/dev/kvm: the entry point that creates VMs and answers capability queries.</summary>
public sealed unsafe class KvmSystem : KvmFd
{
    public const int ExpectedApiVersion = 12;
    public const string DevicePath = "/dev/kvm";

    private KvmSystem(int fd) : base(fd) { }

    /// <summary>Opens /dev/kvm; failures carry a message fit for a user ("no permission", "not present").</summary>
    public static KvmSystem Open(string path = DevicePath)
    {
        int fd;
        fixed (byte* p = System.Text.Encoding.UTF8.GetBytes(path + "\0"))
            fd = LibC.open(p, LibC.O_RDWR | LibC.O_CLOEXEC);
        if (fd < 0)
            throw new KvmException($"open {path}", Marshal.GetLastPInvokeError());
        var system = new KvmSystem(fd);
        int version = system.IoctlValue("KVM_GET_API_VERSION", Ioctls.GetApiVersion, 0);
        if (version != ExpectedApiVersion)
        {
            system.Dispose();
            throw new InvalidOperationException($"{path} speaks KVM API {version}, MiniVmm needs {ExpectedApiVersion}");
        }
        return system;
    }

    public int CheckExtension(KvmCapability capability) =>
        IoctlValue("KVM_CHECK_EXTENSION", Ioctls.CheckExtension, (nuint)capability);

    public int VcpuMmapSize => IoctlValue("KVM_GET_VCPU_MMAP_SIZE", Ioctls.GetVcpuMmapSize, 0);

    /// <summary>KVM_GET_SUPPORTED_CPUID, growing the buffer on E2BIG.</summary>
    public KvmCpuidEntry2[] GetSupportedCpuid()
    {
        for (int capacity = 128; ; capacity *= 2)
        {
            var buffer = new byte[8 + capacity * sizeof(KvmCpuidEntry2)];
            fixed (byte* p = buffer)
            {
                *(uint*)p = (uint)capacity;
                int result = Native.IoctlPointer(Fd, Ioctls.GetSupportedCpuid, p);
                if (result < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == KvmException.E2BIG && capacity < 4096)
                        continue;
                    throw new KvmException("KVM_GET_SUPPORTED_CPUID", errno);
                }
                int count = (int)*(uint*)p;
                return MemoryMarshal.Cast<byte, KvmCpuidEntry2>(buffer.AsSpan(8, count * sizeof(KvmCpuidEntry2))).ToArray();
            }
        }
    }

    public KvmVm CreateVm()
    {
        int fd = IoctlValue("KVM_CREATE_VM", Ioctls.CreateVm, 0);
        return new KvmVm(this, fd);
    }

    /// <summary>True when this host's KVM is the software "PVM" flavour (see docs: guest kernel code is interpreted).</summary>
    public static bool IsPvmHost => Directory.Exists("/sys/module/kvm_pvm");
}
