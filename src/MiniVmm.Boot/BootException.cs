namespace MiniVmm.Boot;

/// <summary>
/// Why a kernel, initrd or boot configuration was refused. The message is one line meant for the
/// user ("kernel.txt is not a Linux kernel: ..."); parsing untrusted bytes throws nothing else.
/// </summary>
public sealed class BootException : Exception
{
    public BootException()
    {
    }

    public BootException(string message) : base(message)
    {
    }

    public BootException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
