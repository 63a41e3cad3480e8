using System.Runtime.InteropServices;

namespace MiniVmm.Kvm;

/// <summary>An owned file descriptor (the KVM system, a VM or a vCPU) plus typed ioctl helpers.</summary>
public abstract unsafe class KvmFd : Sys.Fd
{
    protected KvmFd(int fd) : base(fd) { }

    /// <summary>The raw number (<see cref="Sys.Fd.Value"/>), as the ioctls take it.</summary>
    public int Fd => Value;

    private protected int IoctlValue(string name, nuint request, nuint value)
    {
        int result = Native.IoctlValue(Fd, request, value);
        return result >= 0 ? result : throw new KvmException(name, Marshal.GetLastPInvokeError());
    }

    private protected int IoctlPointer(string name, nuint request, void* argument)
    {
        int result = Native.IoctlPointer(Fd, request, argument);
        return result >= 0 ? result : throw new KvmException(name, Marshal.GetLastPInvokeError());
    }

    private protected int IoctlIn<T>(string name, nuint request, in T value) where T : unmanaged
    {
        fixed (T* pointer = &value)
            return IoctlPointer(name, request, pointer);
    }

    private protected T IoctlOut<T>(string name, nuint request) where T : unmanaged
    {
        T value = default;
        IoctlPointer(name, request, &value);
        return value;
    }
}
